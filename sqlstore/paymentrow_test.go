package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/dbtest"
)

// tableColumns reads a table's columns from the live schema.
func tableColumns(t *testing.T, s *Store, table string) []string {
	t.Helper()
	q := `SELECT name FROM pragma_table_info($1)`
	if s.dialect.name == postgresDialect.name {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
	}
	rows, err := s.DB.QueryContext(context.Background(), q, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(cols)
	return cols
}

// destTarget is the field of p a scan destination writes.
func destTarget(d any) reflect.Value {
	switch d := d.(type) {
	case optional[int64]:
		return reflect.ValueOf(d.p).Elem()
	case optional[string]:
		return reflect.ValueOf(d.p).Elem()
	case *unixTime:
		return reflect.ValueOf((*time.Time)(d)).Elem()
	}
	return reflect.ValueOf(d).Elem()
}

// paymentLeafFields returns the dotted names and addresses of every field of
// p, nested structs (Buyer) flattened; time.Time counts as one field.
func paymentLeafFields(p *billkey.Payment) map[string]uintptr {
	out := map[string]uintptr{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Time]() {
				walk(prefix+f.Name+".", fv)
				continue
			}
			out[prefix+f.Name] = fv.Addr().Pointer()
		}
	}
	walk("", reflect.ValueOf(p).Elem())
	return out
}

// TestPaymentFieldsDescribeTable: paymentFields names every column of the
// live payments table (on both databases) once, except the documented
// columns that are no Payment field, and reaches every field of
// billkey.Payment, except the documented ones stored elsewhere. A column
// added by a migration, or a field added to billkey.Payment, without its
// entry fails here.
func TestPaymentFieldsDescribeTable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		s := openTestStore(t, dsn)
		var described []string
		for _, f := range paymentFields {
			described = append(described, f.column)
		}
		for c := range paymentColumnsNotLoaded {
			if slices.Contains(described, c) {
				t.Errorf("column %s is both described and listed as not loaded", c)
			}
			described = append(described, c)
		}
		sort.Strings(described)
		live := tableColumns(t, s, "payments")
		for _, c := range live {
			if !slices.Contains(described, c) {
				t.Errorf("column payments.%s of the %s schema has no entry in paymentFields (nor paymentColumnsNotLoaded)", c, s.Dialect)
			}
		}
		for _, c := range described {
			if !slices.Contains(live, c) {
				t.Errorf("paymentFields describes payments.%s, which the %s schema does not have", c, s.Dialect)
			}
		}
		if len(described) != len(slices.Compact(slices.Clone(described))) {
			t.Errorf("a column is described twice: %v", described)
		}
	})

	var p billkey.Payment
	fields := paymentLeafFields(&p)
	byAddr := map[uintptr]string{}
	for name, addr := range fields {
		byAddr[addr] = name
	}
	reached := map[string]string{}
	for _, f := range paymentFields {
		if (f.on == 0) != (f.value == nil) {
			t.Errorf("column %s: a value function exactly when it is written (on=%d)", f.column, f.on)
		}
		name, ok := byAddr[destTarget(f.dest(&p)).Addr().Pointer()]
		if !ok {
			t.Errorf("column %s scans into no field of billkey.Payment", f.column)
			continue
		}
		if prev, dup := reached[name]; dup {
			t.Errorf("columns %s and %s both scan into Payment.%s", prev, f.column, name)
		}
		reached[name] = f.column
	}
	for name := range fields {
		_, stored := reached[name]
		_, elsewhere := paymentFieldsNotStored[name]
		if stored == elsewhere {
			t.Errorf("Payment.%s: described by paymentFields %v, listed in paymentFieldsNotStored %v (want exactly one)", name, stored, elsewhere)
		}
	}
}

// fillPaymentFields sets every field written on w to a distinct value that
// is no zero value, through the description's scan destinations.
func fillPaymentFields(p *billkey.Payment, w writtenBy, seed int) {
	for i, f := range paymentFields {
		if f.on&w == 0 {
			continue
		}
		v := destTarget(f.dest(p))
		n := int64(seed*1000 + i + 1)
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000+n*61, 0)))
		case v.Kind() == reflect.String:
			v.SetString(fmt.Sprintf("%s-%d", f.column, seed))
		case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
			v.SetInt(n)
		case v.Kind() == reflect.Bool:
			v.SetBool(true)
		case v.Type() == reflect.TypeFor[*int64]():
			v.Set(reflect.ValueOf(&n))
		case v.Type() == reflect.TypeFor[*string]():
			s := fmt.Sprintf("%s-%d", f.column, seed)
			v.Set(reflect.ValueOf(&s))
		default:
			panic("fillPaymentFields: no test value for " + v.Type().String())
		}
	}
}

// samePaymentFields reports the fields written on w that differ.
func samePaymentFields(t *testing.T, want, got *billkey.Payment, w writtenBy) {
	t.Helper()
	for _, f := range paymentFields {
		if f.on&w == 0 {
			continue
		}
		a, b := destTarget(f.dest(want)).Interface(), destTarget(f.dest(got)).Interface()
		if ta, ok := a.(time.Time); ok {
			a, b = ta.Unix(), b.(time.Time).Unix()
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("column %s: wrote %#v, read %#v", f.column, a, b)
		}
	}
}

// TestPaymentFieldsRoundTrip: every field the description writes reaches its
// column and comes back, through CreatePayment, FinishPayment (alone and
// with its event: one statement on PostgreSQL) and the readers.
func TestPaymentFieldsRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openTestStore(t, dsn)
		m := &billkey.Merchant{ImpCode: "imp10000042", Name: "row", APIKey: "row-key"}
		if err := s.CreateMerchant(ctx, m, []byte("mac"), nil); err != nil {
			t.Fatal(err)
		}
		for i, withEvent := range []bool{false, true} {
			p := &billkey.Payment{}
			fillPaymentFields(p, onInsert, 2*i+1)
			p.MerchantID, p.Status = m.ID, billkey.StatusReady
			if err := s.CreatePayment(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, err := s.PaymentByImpUID(ctx, m.ID, p.ImpUID)
			if err != nil {
				t.Fatal(err)
			}
			samePaymentFields(t, p, got, onInsert)
			if got.ID != p.ID || got.ID == 0 {
				t.Fatalf("id %d, read %d", p.ID, got.ID)
			}

			fillPaymentFields(p, onFinish, 2*i+2)
			p.Status = billkey.StatusPaid
			var ev *billkey.Event
			if withEvent {
				ev = &billkey.Event{MerchantID: m.ID, ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: p.Status,
					NoticeURL: "https://merchant.example/notice"}
			}
			if done, err := s.FinishPayment(ctx, p, ev); err != nil || !done {
				t.Fatalf("finish: %v %v", done, err)
			}
			got, err = s.PaymentByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			samePaymentFields(t, p, got, onFinish)
			if withEvent {
				evs, err := s.Events(ctx, m.ID, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || evs[0].ID != ev.ID || evs[0].ImpUID != p.ImpUID || evs[0].Status != billkey.StatusPaid ||
					evs[0].NoticeURL != ev.NoticeURL || evs[0].CreatedAt.Unix() != p.UpdatedAt.Unix() {
					t.Fatalf("events %+v, want one like %+v created at %v", evs, ev, p.UpdatedAt)
				}
			}
			// A second finish finds the payment no longer ready.
			if done, err := s.FinishPayment(ctx, p, ev); err != nil || done {
				t.Fatalf("second finish: %v %v", done, err)
			}
		}
	})
}
