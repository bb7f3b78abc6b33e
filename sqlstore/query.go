package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rowScanner is what *sql.Row and *sql.Rows offer for one row.
type rowScanner interface{ Scan(...any) error }

// queryAll runs query and scans every row with scan; what names the
// objects in error messages ("payments", "schedules"...).
func queryAll[T any](ctx context.Context, q queryer, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: query %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: query %s: %w", what, err)
	}
	return out, nil
}

// scanned returns a scan function for queryAll that reads each row into a
// new T through the destinations dest gives.
func scanned[T any](dest func(v *T) []any) func(rowScanner) (T, error) {
	return func(r rowScanner) (T, error) {
		var v T
		err := r.Scan(dest(&v)...)
		return v, err
	}
}

// first returns the first of xs (the rows a query read), or missing's
// error (nil when missing is nil) and T's zero value when there are none.
func first[T any](xs []T, err error, missing func() error) (T, error) {
	var zero T
	switch {
	case err != nil:
		return zero, err
	case len(xs) > 0:
		return xs[0], nil
	case missing != nil:
		return zero, missing()
	}
	return zero, nil
}

// rowErr is the error of a one-row lookup: sql.ErrNoRows becomes missing's
// error, another one is wrapped with what.
func rowErr(err error, what string, missing func() error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return missing()
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// execCount runs a statement and returns how many rows it changed; what
// names it in errors ("renew schedule lease"...).
func execCount(ctx context.Context, q queryer, what, query string, args ...any) (int64, error) {
	n, err := affected(q.ExecContext(ctx, query, args...))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return n, nil
}

// affected returns how many rows a statement's result changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// countBy runs a query of (key, count) rows, such as SELECT state, COUNT(*)
// … GROUP BY state, into a map.
func countBy[K ~string](ctx context.Context, q queryer, what, query string, args ...any) (map[K]int, error) {
	type kv struct {
		k string
		n int
	}
	rows, err := queryAll(ctx, q, what, scanned(func(x *kv) []any { return []any{&x.k, &x.n} }), query, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[K]int, len(rows))
	for _, x := range rows {
		out[K(x.k)] = x.n
	}
	return out, nil
}

// filter builds a WHERE condition and its arguments, numbering the
// placeholders in the order the arguments are added.
type filter struct {
	conds []string
	args  []any
}

// where starts a filter with a condition (see add).
func where(cond string, v any) *filter {
	f := &filter{}
	f.add(cond, v)
	return f
}

// arg adds an argument and returns its placeholder.
func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return placeholder(len(f.args))
}

// add adds a condition in which each ? stands for v.
func (f *filter) add(cond string, v any) {
	f.conds = append(f.conds, strings.ReplaceAll(cond, "?", f.arg(v)))
}

// raw adds a condition that takes no argument.
func (f *filter) raw(cond string) { f.conds = append(f.conds, cond) }

// in returns "col IN ($i, …)" for vs, adding them as arguments.
func (f *filter) in(col string, vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = f.arg(v)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

// clone returns a copy that can take more conditions without changing f.
func (f *filter) clone() *filter {
	return &filter{conds: slices.Clone(f.conds), args: slices.Clone(f.args)}
}

// String returns the conditions joined by AND.
func (f *filter) String() string { return strings.Join(f.conds, " AND ") }

// count returns how many rows of table (which may carry an alias) match.
func (f *filter) count(ctx context.Context, q queryer, table string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+f.String(), f.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count %s: %w", strings.Fields(table)[0], err)
	}
	return n, nil
}

// page returns the query of one page (limit rows after offset, in order)
// of cols of the rows of table that match, and its arguments.
func (f *filter) page(cols, table, order string, limit, offset int) (string, []any) {
	args := append(append([]any(nil), f.args...), limit, offset)
	return fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %s OFFSET %s`,
		cols, table, f.String(), order, placeholder(len(args)-1), placeholder(len(args))), args
}

// exists reports whether a query returns a row.
func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.DB.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlstore: %w", err)
	}
	return true, nil
}
