package window

// Test hooks for the external test package.
var (
	DecodeParams = decodeParams
	ParseOrigin  = parseOrigin
)
