package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

const operatorColumns = `id, login, name, password_hash, all_merchants, disabled, created_at, updated_at`

func scanOperator(row rowScanner) (*billkey.Operator, error) {
	var o billkey.Operator
	var created, updated int64
	if err := row.Scan(&o.ID, &o.Login, &o.Name, &o.PasswordHash, &o.AllMerchants, &o.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromUnix(created), fromUnix(updated)
	return &o, nil
}

// CreateOperator inserts an operator with its grants and sets its ID. A
// login that exists is EREJECTED.
func (s *Store) CreateOperator(ctx context.Context, o *billkey.Operator) error {
	now := s.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO operators (login, name, password_hash, all_merchants, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING id`, o.Login, o.Name, o.PasswordHash, o.AllMerchants, unix(now)).Scan(&o.ID)
		if isUniqueViolation(err) {
			return billkey.Errorf(billkey.EREJECTED, "operator %q already exists", o.Login)
		} else if err != nil {
			return fmt.Errorf("sqlstore: create operator: %w", err)
		}
		for _, mid := range o.MerchantIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO operator_grants (operator_id, merchant_id) VALUES ($1, $2)`, o.ID, mid); err != nil {
				return fmt.Errorf("sqlstore: grant merchant %d: %w", mid, err)
			}
		}
		o.CreatedAt, o.UpdatedAt = time.Unix(unix(now), 0), time.Unix(unix(now), 0)
		return nil
	})
}

// OperatorByLogin returns the operator with its grants; ENOTFOUND if none.
func (s *Store) OperatorByLogin(ctx context.Context, login string) (*billkey.Operator, error) {
	return s.operator(ctx, `login = $1`, login)
}

// OperatorByID returns the operator with its grants; ENOTFOUND if none.
func (s *Store) OperatorByID(ctx context.Context, id int64) (*billkey.Operator, error) {
	return s.operator(ctx, `id = $1`, id)
}

func (s *Store) operator(ctx context.Context, cond string, arg any) (*billkey.Operator, error) {
	o, err := scanOperator(s.DB.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE `+cond, arg))
	if err != nil {
		return nil, rowErr(err, "operator", func() error { return notFound("operator not found") })
	}
	if o.MerchantIDs, err = s.operatorGrants(ctx, o.ID); err != nil {
		return nil, err
	}
	return o, nil
}

func (s *Store) operatorGrants(ctx context.Context, id int64) ([]int64, error) {
	return queryAll(ctx, s.DB, "operator grants", scanned(func(v *int64) []any { return []any{v} }), `SELECT merchant_id FROM operator_grants WHERE operator_id = $1 ORDER BY merchant_id`, id)
}

// ListOperators returns every operator with its grants, by login.
func (s *Store) ListOperators(ctx context.Context) ([]*billkey.Operator, error) {
	ops, err := queryAll(ctx, s.DB, "operators", scanOperator, `SELECT `+operatorColumns+` FROM operators ORDER BY login`)
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		if o.MerchantIDs, err = s.operatorGrants(ctx, o.ID); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// SetOperatorDisabled disables (or enables) an operator; disabling also
// ends every session of it.
func (s *Store) SetOperatorDisabled(ctx context.Context, login string, disabled bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE operators SET disabled = $1, updated_at = $2 WHERE login = $3 RETURNING id`,
			disabled, unix(s.Now()), login).Scan(&id)
		if err != nil {
			return rowErr(err, "disable operator", func() error { return notFound("operator %q not found", login) })
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1`, id); err != nil {
				return fmt.Errorf("sqlstore: end sessions: %w", err)
			}
		}
		return nil
	})
}

// SetOperatorPassword replaces an operator's password hash and ends every
// session of it.
func (s *Store) SetOperatorPassword(ctx context.Context, login, hash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE operators SET password_hash = $1, updated_at = $2 WHERE login = $3 RETURNING id`,
			hash, unix(s.Now()), login).Scan(&id)
		if err != nil {
			return rowErr(err, "set operator password", func() error { return notFound("operator %q not found", login) })
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1`, id); err != nil {
			return fmt.Errorf("sqlstore: end sessions: %w", err)
		}
		return nil
	})
}

// CreateOperatorSession stores a session under the hash of its token.
func (s *Store) CreateOperatorSession(ctx context.Context, tokenHash []byte, sess *billkey.OperatorSession) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO operator_sessions (token_hash, operator_id, client_addr, user_agent, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`, tokenHash, sess.OperatorID, sess.ClientAddr, sess.UserAgent,
			unix(sess.CreatedAt), unix(sess.ExpiresAt)).Scan(&sess.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: create session: %w", err)
		}
		return nil
	})
}

// OperatorSessionByHash returns the session with the token hash; ENOTFOUND
// if none (expired sessions are returned: the caller checks).
func (s *Store) OperatorSessionByHash(ctx context.Context, tokenHash []byte) (*billkey.OperatorSession, error) {
	var sess billkey.OperatorSession
	var created, seen, expires int64
	err := s.DB.QueryRowContext(ctx, `SELECT id, operator_id, client_addr, user_agent, created_at, last_seen_at, expires_at
		FROM operator_sessions WHERE token_hash = $1`, tokenHash).Scan(&sess.ID, &sess.OperatorID, &sess.ClientAddr,
		&sess.UserAgent, &created, &seen, &expires)
	if err != nil {
		return nil, rowErr(err, "session", func() error { return notFound("session not found") })
	}
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
	return &sess, nil
}

// TouchOperatorSession records that the session was used now.
func (s *Store) TouchOperatorSession(ctx context.Context, id int64, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE operator_sessions SET last_seen_at = $1 WHERE id = $2`, unix(now), id)
		if err != nil {
			return fmt.Errorf("sqlstore: touch session: %w", err)
		}
		return nil
	})
}

// DeleteOperatorSession ends a session (logout, expiry), and drops every
// expired session while at it.
func (s *Store) DeleteOperatorSession(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE id = $1 OR expires_at < $2`, id, unix(s.Now())); err != nil {
			return fmt.Errorf("sqlstore: delete session: %w", err)
		}
		return nil
	})
}

// RecordLoginFailure notes a failed console login.
func (s *Store) RecordLoginFailure(ctx context.Context, login, clientAddr string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO console_login_failures (login, client_addr, at) VALUES ($1, $2, $3)`,
			login, clientAddr, unix(at)); err != nil {
			return fmt.Errorf("sqlstore: record login failure: %w", err)
		}
		return nil
	})
}

// LoginFailures counts the failed logins since a time for the login name
// and for the client address.
func (s *Store) LoginFailures(ctx context.Context, login, clientAddr string, since time.Time) (byLogin, byAddr int, err error) {
	if err = s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_login_failures WHERE login = $1 AND at >= $2`,
		login, unix(since)).Scan(&byLogin); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: login failures: %w", err)
	}
	if err = s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_login_failures WHERE client_addr = $1 AND at >= $2`,
		clientAddr, unix(since)).Scan(&byAddr); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: login failures: %w", err)
	}
	return byLogin, byAddr, nil
}

// ClearLoginFailures forgets the failures of a login name (after a
// successful login) and those older than before.
func (s *Store) ClearLoginFailures(ctx context.Context, login string, before time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_login_failures WHERE login = $1 OR at < $2`, login, unix(before)); err != nil {
			return fmt.Errorf("sqlstore: clear login failures: %w", err)
		}
		return nil
	})
}

// AddAudit appends a console action to the audit log.
func (s *Store) AddAudit(ctx context.Context, e *billkey.AuditEntry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.Now()
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO console_audit (operator_id, operator_login, merchant_id, action, target, detail, client_addr, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, e.OperatorID, e.OperatorLogin, e.MerchantID, e.Action,
			e.Target, e.Detail, e.ClientAddr, unix(e.CreatedAt)).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: audit: %w", err)
		}
		return nil
	})
}

// ListAudit returns audit entries, newest first, and how many match.
func (s *Store) ListAudit(ctx context.Context, f billkey.AuditFilter) ([]*billkey.AuditEntry, int, error) {
	w := &filter{}
	w.raw("1 = 1")
	if f.MerchantIDs != nil {
		in := "0"
		for _, id := range f.MerchantIDs {
			in += ", " + w.arg(id)
		}
		w.add("(merchant_id IN ("+in+") AND merchant_id <> 0 OR merchant_id = 0 AND operator_id = ?)", f.OperatorID)
	}
	if f.Target != "" {
		w.add("target = ?", f.Target)
	}
	total, err := w.count(ctx, s.DB, "console_audit")
	if err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	query, args := w.page(`id, operator_id, operator_login, merchant_id, action, target, detail, client_addr, created_at`,
		"console_audit", "id DESC", f.Limit, f.Offset)
	out, err := queryAll(ctx, s.DB, "audit", func(r rowScanner) (*billkey.AuditEntry, error) {
		var e billkey.AuditEntry
		var at int64
		err := r.Scan(&e.ID, &e.OperatorID, &e.OperatorLogin, &e.MerchantID, &e.Action, &e.Target, &e.Detail, &e.ClientAddr, &at)
		e.CreatedAt = fromUnix(at)
		return &e, err
	}, query, args...)
	return out, total, err
}
