// Package billkey is the domain of billkey, a self-hosted subscription payment
// gateway that speaks the i'mport (PortOne V1) REST API and browser SDK, with
// KG INICIS as its first PG.
//
// The root package holds only domain types, the PG connector interface and the
// one error type every layer uses. It imports no adapter: the SQL store
// (sqlstore), the INICIS client (inicis), the simulator (inicissim), the vault
// (vault) and the HTTP API (api) all depend on it, never the other way round.
//
// Money is always an int64 number of KRW. Times are time.Time in the domain and
// become i'mport's UNIX seconds (0 for "not happened") only at the API edge.
package billkey
