package billkey_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering checks the import graph: the HTTP layer (api, window,
// console) and the use cases (gateway) depend on interfaces they declare,
// never on the SQL store, and the domain imports no adapter. It runs the go
// tool, as the layering is a property of the build.
func TestLayering(t *testing.T) {
	const module = "github.com/billkey/billkey"
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"./api", []string{module + "/sqlstore"}},
		{"./window", []string{module + "/sqlstore"}},
		{"./gateway", []string{module + "/sqlstore"}},
		{"./console", []string{module + "/sqlstore"}},
		{".", []string{module + "/sqlstore", module + "/gateway", module + "/api", module + "/inicis", module + "/vault"}},
	}
	for _, c := range cases {
		t.Run(c.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", c.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", c.pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 2 {
				t.Fatalf("go list -deps %s listed %d packages: %q", c.pkg, len(deps), deps)
			}
			for _, d := range deps {
				for _, f := range c.forbidden {
					if d == f {
						t.Errorf("%s imports %s (directly or not)", c.pkg, f)
					}
				}
			}
		})
	}
}
