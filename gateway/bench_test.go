package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/testkeys"
	"github.com/billkey/billkey/sqlstore"
)

// BenchmarkAuthenticate measures the token check every API call makes
// (a keyed MAC and one indexed lookup), on SQLite.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	keys := testkeys.New(b)
	st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), keys)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := gateway.New(st, keys, nil, nil)
	m, err := svc.CreateMerchant(ctx, gateway.NewMerchant{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := svc.IssueToken(ctx, m.Merchant.APIKey, m.ImpSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, tok.Token); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = []any{json.Marshal, fmt.Sprint, http.StatusOK, strings.Contains}
