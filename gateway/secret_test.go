package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/internal/teststore"
)

// TestRotateSecretOverlapEnds: after RotateSecret the old REST secret gets
// tokens until the overlap ends, and not a second later; the new one works
// throughout. On both databases.
func TestRotateSecretOverlapEnds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, keys := teststore.Open(t, dsn)
		now := time.Unix(1_800_000_000, 0)
		svc := New(st, keys, nil, nil)
		svc.Now = func() time.Time { return now }
		st.Now = svc.Now
		m, err := svc.CreateMerchant(ctx, NewMerchant{Name: "m", ImpSecret: "old-secret-0123"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.RotateSecret(ctx, m.Merchant.ImpCode, MaxSecretOverlap+time.Second); err == nil {
			t.Fatal("an overlap beyond the maximum was accepted")
		}
		secret, until, err := svc.RotateSecret(ctx, m.Merchant.ImpCode, time.Hour)
		if err != nil || !until.Equal(now.Add(time.Hour)) {
			t.Fatalf("rotate: %v %v", until, err)
		}
		key := m.Merchant.APIKey
		for _, tc := range []struct {
			at     time.Duration
			secret string
			ok     bool
		}{
			{0, "old-secret-0123", true},
			{0, secret, true},
			{time.Hour - time.Second, "old-secret-0123", true},
			{time.Hour, "old-secret-0123", false},
			{time.Hour, secret, true},
			{0, "wrong", false},
		} {
			now = time.Unix(1_800_000_000, 0).Add(tc.at)
			_, _, err := svc.IssueToken(ctx, key, tc.secret)
			if (err == nil) != tc.ok {
				t.Errorf("at +%s with %.3s…: %v, want ok=%v", tc.at, tc.secret, err, tc.ok)
			}
			if err != nil && billkey.ErrorCode(err) != billkey.EUNAUTHORIZED {
				t.Errorf("error code %s", billkey.ErrorCode(err))
			}
		}
	})
}
