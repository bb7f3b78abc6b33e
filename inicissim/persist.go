package inicissim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Record kinds of the state file. Each record is one JSON document, keyed by
// (kind, id); seq keeps the order in which records were first written, which
// is the ledger's order.
const (
	recKey       = "key"
	recApproval  = "approval"
	recDecline   = "decline"
	recRefund    = "refund"
	recNetCancel = "net_cancel"
	recWindow    = "window"
	recGrant     = "grant"
)

// stateSchema is the state file's schema. The file belongs to the simulator
// alone (billkey's own database never holds it).
const stateSchema = `
CREATE TABLE IF NOT EXISTS sim_records (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	id   TEXT NOT NULL,
	data TEXT NOT NULL,
	UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS sim_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO sim_meta (name, value) VALUES ('schema_version', '1') ON CONFLICT (name) DO NOTHING;
`

// stateFormat is the schema_version this code reads and writes.
const stateFormat = "1"

// storedKey is a keyRecord as written to the state file.
type storedKey struct {
	Key
	Profile cardProfile `json:"profile"`
}

// storedWindow is a window as written to the state file; the account is
// kept by MID and looked up again on load.
type storedWindow struct {
	ID               string    `json:"id"`
	Kind             string    `json:"kind"`
	MID              string    `json:"mid"`
	OrderID          string    `json:"order_id"`
	Price            int64     `json:"price"`
	GoodName         string    `json:"good_name"`
	BuyerName        string    `json:"buyer_name"`
	BuyerTel         string    `json:"buyer_tel"`
	BuyerMail        string    `json:"buyer_mail"`
	ReturnURL        string    `json:"return_url"`
	CloseURL         string    `json:"close_url"`
	Charset          string    `json:"charset"`
	MerchantData     string    `json:"merchant_data"`
	Notice           string    `json:"notice"`
	MerchantReserved string    `json:"merchant_reserved"`
	Expires          time.Time `json:"expires"`
}

// storedGrant is an authGrant as written to the state file.
type storedGrant struct {
	Token        string       `json:"token"`
	IDC          string       `json:"idc"`
	Window       storedWindow `json:"window"`
	Profile      cardProfile  `json:"profile"`
	Expires      time.Time    `json:"expires"`
	Approved     bool         `json:"approved"`
	NetCancelled bool         `json:"net_cancelled"`
	Key          Key          `json:"key"`
}

func toStoredWindow(w *window) storedWindow {
	return storedWindow{
		ID: w.id, Kind: w.kind, MID: w.acct.MID, OrderID: w.orderID, Price: w.price, GoodName: w.goodName,
		BuyerName: w.buyerName, BuyerTel: w.buyerTel, BuyerMail: w.buyerMail, ReturnURL: w.returnURL,
		CloseURL: w.closeURL, Charset: w.charset, MerchantData: w.merchantData, Notice: w.notice,
		MerchantReserved: w.merchantReserved, Expires: w.expires,
	}
}

func (sw storedWindow) window(acct Account) *window {
	return &window{
		id: sw.ID, kind: sw.Kind, acct: acct, orderID: sw.OrderID, price: sw.Price, goodName: sw.GoodName,
		buyerName: sw.BuyerName, buyerTel: sw.BuyerTel, buyerMail: sw.BuyerMail, returnURL: sw.ReturnURL,
		closeURL: sw.CloseURL, charset: sw.Charset, merchantData: sw.MerchantData, notice: sw.Notice,
		merchantReserved: sw.MerchantReserved, expires: sw.Expires,
	}
}

func toStoredGrant(g *authGrant) storedGrant {
	return storedGrant{
		Token: g.token, IDC: g.idc, Window: toStoredWindow(&g.win), Profile: g.profile, Expires: g.expires,
		Approved: g.approved, NetCancelled: g.netCancelled, Key: g.key,
	}
}

// stateFile is the simulator's durable state: an SQLite file written
// through on every change of the ledger, so that billing keys, approvals,
// refunds and open windows survive a restart as they do at INICIS.
type stateFile struct {
	db  *sql.DB
	log *slog.Logger
}

// openStateFile opens (creating it, mode 0600) the state file at path.
func openStateFile(path string, log *slog.Logger) (*stateFile, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("inicissim: state file folder: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("inicissim: state file: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(2000)")
	// One simulator per file: two processes sharing it would each answer
	// from their own memory and disagree. The lock is taken by the first
	// write below and held until close.
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	// NORMAL survives a crash of the process (the simulator's concern);
	// FULL would add an fsync per charge for no benefit in test mode.
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("inicissim: open state file: %w", err)
	}
	// One connection: every write happens under the simulator's lock.
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("inicissim: state file %s (is another simulator using it?): %w", path, err)
	}
	var version string
	if err := db.QueryRowContext(ctx, `SELECT value FROM sim_meta WHERE name = 'schema_version'`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("inicissim: state file %s: %w", path, err)
	}
	if version != stateFormat {
		db.Close()
		return nil, fmt.Errorf("inicissim: state file %s has format %s; this simulator reads format %s", path, version, stateFormat)
	}
	return &stateFile{db: db, log: log}, nil
}

// save writes (inserts or replaces) one record. A failed write is logged:
// the simulator keeps serving from memory, as a test PG should.
func (f *stateFile) save(kind, id string, v any) {
	if f == nil {
		return
	}
	data, err := json.Marshal(v)
	if err == nil {
		_, err = f.db.Exec(`INSERT INTO sim_records (kind, id, data) VALUES (?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data`, kind, id, string(data))
	}
	if err != nil {
		f.log.Error("inicissim: state file write failed; the change is kept in memory only",
			slog.String("kind", kind), slog.Any("error", err))
	}
}

// remove deletes one record.
func (f *stateFile) remove(kind, id string) {
	if f == nil {
		return
	}
	if _, err := f.db.Exec(`DELETE FROM sim_records WHERE kind = ? AND id = ?`, kind, id); err != nil {
		f.log.Error("inicissim: state file delete failed", slog.String("kind", kind), slog.Any("error", err))
	}
}

// clear deletes every record (POST /_sim/reset).
func (f *stateFile) clear() {
	if f == nil {
		return
	}
	if _, err := f.db.Exec(`DELETE FROM sim_records`); err != nil {
		f.log.Error("inicissim: state file reset failed", slog.Any("error", err))
	}
}

func (f *stateFile) close() error {
	if f == nil {
		return nil
	}
	return f.db.Close()
}

// load rebuilds st (empty) from the file. Windows and grants of accounts
// the simulator no longer knows are dropped.
func (f *stateFile) load(st *state, account func(string) (Account, bool)) error {
	rows, err := f.db.Query(`SELECT kind, id, data FROM sim_records ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("inicissim: read state file: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id, data string
		if err := rows.Scan(&kind, &id, &data); err != nil {
			return fmt.Errorf("inicissim: read state file: %w", err)
		}
		if err := st.restore(kind, []byte(data), account); err != nil {
			return fmt.Errorf("inicissim: state file record %s %s: %w", kind, id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("inicissim: read state file: %w", err)
	}
	return nil
}

// restore adds one stored record to st.
func (st *state) restore(kind string, data []byte, account func(string) (Account, bool)) error {
	switch kind {
	case recKey:
		var k storedKey
		if err := json.Unmarshal(data, &k); err != nil {
			return err
		}
		st.keys[k.BillKey] = &keyRecord{Key: k.Key, profile: k.Profile}
		st.keyOrder = append(st.keyOrder, k.BillKey)
	case recApproval:
		a := &Approval{}
		if err := json.Unmarshal(data, a); err != nil {
			return err
		}
		st.approvals = append(st.approvals, a)
		st.byTID[a.TID] = a
		st.byMOID[moidKey(a.MID, a.OrderID)] = a
	case recDecline:
		var d Decline
		if err := json.Unmarshal(data, &d); err != nil {
			return err
		}
		st.declines = append(st.declines, d)
	case recRefund:
		var r Refund
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		st.refunds = append(st.refunds, r)
	case recNetCancel:
		var n NetCancel
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		st.netCancels = append(st.netCancels, n)
	case recWindow:
		var w storedWindow
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		if acct, ok := account(w.MID); ok {
			st.windows[w.ID] = w.window(acct)
		}
	case recGrant:
		var g storedGrant
		if err := json.Unmarshal(data, &g); err != nil {
			return err
		}
		if acct, ok := account(g.Window.MID); ok {
			st.tokens[g.Token] = &authGrant{
				token: g.Token, idc: g.IDC, win: *g.Window.window(acct), profile: g.Profile, expires: g.Expires,
				approved: g.Approved, netCancelled: g.NetCancelled, key: g.Key,
			}
		}
	default:
		return errors.New("unknown record kind")
	}
	return nil
}

// The persist* helpers write one change through to the state file; the
// caller holds mu and has already changed the in-memory state.

func (st *state) persistKey(k *keyRecord) {
	st.file.save(recKey, k.BillKey, storedKey{Key: k.Key, Profile: k.profile})
}

func (st *state) persistApproval(a *Approval) { st.file.save(recApproval, a.TID, a) }

// persistDecline writes the last decline (append-only lists are keyed by
// their index).
func (st *state) persistDecline() {
	st.file.save(recDecline, strconv.Itoa(len(st.declines)-1), st.declines[len(st.declines)-1])
}

func (st *state) persistRefund() {
	st.file.save(recRefund, strconv.Itoa(len(st.refunds)-1), st.refunds[len(st.refunds)-1])
}

func (st *state) persistNetCancel() {
	st.file.save(recNetCancel, strconv.Itoa(len(st.netCancels)-1), st.netCancels[len(st.netCancels)-1])
}

func (st *state) persistWindow(w *window) { st.file.save(recWindow, w.id, toStoredWindow(w)) }

func (st *state) forgetWindow(id string) { st.file.remove(recWindow, id) }

func (st *state) persistGrant(g *authGrant) { st.file.save(recGrant, g.token, toStoredGrant(g)) }
