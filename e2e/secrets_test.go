package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/dbtest"
	"github.com/billkey/billkey/sqlstore"
	"github.com/billkey/billkey/vault"
)

// TestSecretsNeverLeak runs every flow that touches a billing key or card
// data, then looks for the raw billKeys (read from the simulator's ledger),
// the card numbers, birth dates and PIN digits in every reply the merchant
// got, every log line, and every column of every table.
func TestSecretsNeverLeak(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		cards := []string{"4518420000000007", "4000000000000341", "4242424242424242"}
		for i, card := range cards {
			h.mustIssue("cust-"+string(rune('a'+i)), card)
		}
		h.again("cust-a", "o-1", 1000)
		h.again("cust-b", "o-2", 1000)
		h.mustIssue("cust-a", "4242424242424242") // replaced: the old key is retired, still sealed
		h.call("POST", "/subscribe/payments/onetime", map[string]any{"merchant_uid": "o-3", "amount": 500, "card_number": "4242-4242-4242-4242",
			"expiry": "2030-12", "birth": "880101", "pwd_2digit": "12", "name": "x", "buyer_name": "a", "buyer_email": "a@b.c", "buyer_tel": "1"})
		h.call("DELETE", "/subscribe/customers/cust-c", nil)
		_, env := h.call("GET", "/payments/find/o-1", nil)
		h.call("POST", "/payments/cancel", map[string]any{"imp_uid": env.payment(t).ImpUID})

		var secrets []string
		for _, k := range h.ledger().Keys {
			secrets = append(secrets, k.BillKey)
		}
		if len(secrets) < 5 {
			t.Fatalf("expected the simulator to have issued keys, got %d", len(secrets))
		}
		secrets = append(secrets, cards...)
		secrets = append(secrets, "880101")

		haystacks := map[string]string{"API replies": h.bodies.String(), "logs": h.logs.String()}
		for name, text := range haystacks {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s contain the secret %q", name, s[:6]+"…")
				}
			}
		}
		dump := dumpDatabase(t, h.store)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the database holds the secret %q in plaintext", s[:6]+"…")
			}
		}
		if !strings.Contains(dump, "o-1") || !strings.Contains(dump, "cust-a") {
			t.Fatal("the database dump is empty: the scan proves nothing")
		}
	})
}

// dumpDatabase renders every row of every table as text (and any binary
// column as raw bytes).
func dumpDatabase(t *testing.T, st *sqlstore.Store) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.Dialect == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
	}
	rows, err := st.DB.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := st.DB.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					b.Write(raw)
				} else if v != nil {
					fmt.Fprint(&b, v)
				}
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// TestRotatedKEKStillCharges: keys sealed under an old master key still
// charge after "keys rotate" (new primary, re-wrap) and a restart, and still
// after the old master key is gone from the ring.
func TestRotatedKEKStillCharges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		keyFile := filepath.Join(t.TempDir(), "master-key.json")
		ring, err := vault.GenerateFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		oldID := ring.PrimaryID()
		keys := vault.Owned{Keyring: ring}
		sim := startSim(t) // the PG keeps its keys across billkey restarts
		h := start(t, dsn, options{keys: &keys, sim: sim})
		h.mustIssue("cust-rot", "4242424242424242")
		if _, env := h.again("cust-rot", "before-rotation", 1000); env.payment(t).Status != "paid" {
			t.Fatalf("before rotation: %s", env.raw)
		}
		closeApp(t, h)

		newID, err := vault.RotateFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		ring2, err := vault.LoadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		keys2 := vault.Owned{Keyring: ring2}
		h2 := start(t, dsn, options{keys: &keys2, sim: sim})
		n, err := h2.app.Service.RotateKeys(context.Background(), keys2.Rewrap)
		if err != nil || n < 2 {
			t.Fatalf("rewrap: %d %v", n, err)
		}
		if _, env := h2.again("cust-rot", "after-rotation", 1000); env.payment(t).Status != "paid" {
			t.Fatalf("after rotation: %s", env.raw)
		}
		closeApp(t, h2)

		// Drop the old key entirely: everything was re-wrapped under the new one.
		only, err := vault.Parse(newID+":"+exportKey(t, keyFile, newID), exportMAC(t, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if got := only.IDs(); len(got) != 1 || got[0] == oldID {
			t.Fatalf("ring without the old key: %v", got)
		}
		keys3 := vault.Owned{Keyring: only}
		h3 := start(t, dsn, options{keys: &keys3, sim: sim})
		if _, env := h3.again("cust-rot", "old-key-gone", 1000); env.payment(t).Status != "paid" {
			t.Fatalf("with the old master key removed: %s", env.raw)
		}
	})
}

func closeApp(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.app.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// exportKey and exportMAC read one master key and the MAC key back out of
// a key file, to build a ring that lacks the old keys.
func exportKey(t *testing.T, path, id string) string {
	t.Helper()
	for _, k := range readKeyFile(t, path).KEKs {
		if k.ID == id {
			return k.Key
		}
	}
	t.Fatalf("key %s not in %s", id, path)
	return ""
}

func exportMAC(t *testing.T, path string) string { return readKeyFile(t, path).MACKey }

func readKeyFile(t *testing.T, path string) (kf struct {
	KEKs []struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	} `json:"keks"`
	MACKey string `json:"mac_key"`
}) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatal(err)
	}
	return kf
}
