package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/internal/dbtest"
)

// iamportOperation is one operation of i'mport's official V1 description.
type iamportOperation struct{ Method, Path string }

// iamportOperations reads testdata/iamport-v1.openapi.json (i'mport's
// official Swagger 2.0 description, MIT; license beside it).
func iamportOperations(t *testing.T) []iamportOperation {
	t.Helper()
	raw, err := os.ReadFile("testdata/iamport-v1.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []iamportOperation
	for path, methods := range doc.Paths {
		for m := range methods {
			switch m {
			case "get", "post", "put", "delete", "patch":
				ops = append(ops, iamportOperation{strings.ToUpper(m), path})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+ops[i].Method < ops[j].Path+ops[j].Method })
	return ops
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestEveryIamportOperationAnswered walks i'mport's 76 V1 operations and
// fails if billkey answers any with "no such API", a 405 or a 500; the
// operations of products billkey lacks must never succeed, and every entry
// of billkey's unsupported table must be a real i'mport operation.
func TestEveryIamportOperationAnswered(t *testing.T) {
	ops := iamportOperations(t)
	if len(ops) != 76 {
		t.Fatalf("the official description has %d operations, want 76", len(ops))
	}
	official := map[iamportOperation]bool{}
	for _, op := range ops {
		official[op] = true
	}
	unsupported := map[iamportOperation]api.UnsupportedOperation{}
	for _, u := range api.UnsupportedOperations() {
		k := iamportOperation{u.Method, u.Path}
		if !official[k] {
			t.Errorf("unsupported table lists %s %s, which is not an i'mport operation", u.Method, u.Path)
		}
		unsupported[k] = u
	}
	tb := setup(t, dbtest.DSN(t, "sqlite"))
	for _, op := range ops {
		for _, id := range []string{"imps_000000000000", tb.paidA.ImpUID} {
			path := pathParam.ReplaceAllStringFunc(op.Path, func(p string) string {
				switch p {
				case "{imp_uid}":
					return id
				case "{payment_status}":
					return "paid"
				}
				return "x"
			})
			req, _ := http.NewRequest(op.Method, tb.srv.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", tb.tokenA)
			r := do(t, req)
			if r.status == http.StatusMethodNotAllowed || r.status >= 500 || strings.HasPrefix(r.message(), "존재하지 않는 API입니다.") {
				t.Errorf("%s %s (%s): %d %s", op.Method, op.Path, path, r.status, r.message())
			}
			u, isUnsupported := unsupported[op]
			if !isUnsupported {
				continue
			}
			if r.Code == 0 || r.message() == "" || string(r.Resp) != "null" {
				t.Errorf("%s %s answered a product billkey lacks with success: %d %+v", op.Method, op.Path, r.status, r)
			}
			switch {
			case u.Kind == api.ByPayment && id != tb.paidA.ImpUID:
				if r.status != 404 || r.message() != "존재하지 않는 결제정보입니다." {
					t.Errorf("%s %s unknown imp_uid: %d %s", op.Method, op.Path, r.status, r.message())
				}
			case u.Message != r.message():
				t.Errorf("%s %s: %q, want %q", op.Method, op.Path, r.message(), u.Message)
			case u.Kind == api.NoData && r.status != 404, u.Kind == api.NoContract && (r.status != 200 || r.Code != 1):
				t.Errorf("%s %s: %d code %d", op.Method, op.Path, r.status, r.Code)
			}
		}
	}
	// i'mport's recorded texts.
	if r := tb.get(t, "/certifications/imp_12341234", tb.tokenA); r.status != 404 || r.message() != "인증결과가 존재하지 않습니다." {
		t.Errorf("certification: %d %s", r.status, r.message())
	}
	req, _ := http.NewRequest("POST", tb.srv.URL+"/vbanks", strings.NewReader(`{"merchant_uid":"v","amount":5000,"vbank_code":"03","vbank_due":1,"vbank_holder":"PLAT Corp"}`))
	req.Header.Set("Authorization", tb.tokenA)
	if r := do(t, req); r.Code == 0 || !strings.Contains(r.message(), "계약이 필요합니다.") {
		t.Errorf("vbank: %d %s", r.status, r.message())
	}
}
