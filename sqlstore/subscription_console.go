package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/billkey/billkey"
)

// The console's read-only views of subscriptions: search with a status
// filter, and a subscription's cycles (schedules), charges (every attempt,
// dunning retries included) and subscription.* events.

// SearchSubscriptions returns the merchant's subscriptions, newest first,
// of customerUID and status when not empty, and the total number.
func (s *Store) SearchSubscriptions(ctx context.Context, merchantID int64, customerUID string, status billkey.SubscriptionStatus, offset, limit int) ([]*billkey.Subscription, int, error) {
	cond, args := "merchant_id = $1", []any{merchantID}
	if customerUID != "" {
		args = append(args, customerUID)
		cond += fmt.Sprintf(" AND customer_uid = $%d", len(args))
	}
	if status != "" {
		args = append(args, string(status))
		cond += fmt.Sprintf(" AND status = $%d", len(args))
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: count subscriptions: %w", err)
	}
	args = append(args, limit, offset)
	subs, err := queryAll(ctx, s.DB, "subscriptions", scanSubscription, fmt.Sprintf(`SELECT %s FROM subscriptions WHERE %s
		ORDER BY id DESC LIMIT $%d OFFSET $%d`, subscriptionColumns, cond, len(args)-1, len(args)), args...)
	return subs, total, err
}

// subscriptionOrderLike is the LIKE pattern (escape '\') of every charge
// of subscription id: sub_<id>_<n>.
func subscriptionOrderLike(id int64) string {
	return `sub\_` + strconv.FormatInt(id, 10) + `\_%`
}

// ofSubscription keeps the items whose merchant_uid is a charge of id.
func ofSubscription[T any](id int64, items []T, uid func(T) string) []T {
	out := items[:0]
	for _, it := range items {
		if sid, _, ok := billkey.ParseSubscriptionOrder(uid(it)); ok && sid == id {
			out = append(out, it)
		}
	}
	return out
}

// SubscriptionSchedules returns the schedules of the subscription's cycles,
// latest cycle first (at most limit).
func (s *Store) SubscriptionSchedules(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.Schedule, error) {
	scs, err := s.querySchedules(ctx, s.DB, `SELECT `+scheduleSelect+` FROM schedules WHERE merchant_id = $1
		AND merchant_uid LIKE $2 ESCAPE '\' ORDER BY schedule_at DESC, id DESC LIMIT $3`, merchantID, subscriptionOrderLike(id), limit)
	if err != nil {
		return nil, err
	}
	return ofSubscription(id, scs, func(sc *billkey.Schedule) string { return sc.MerchantUID }), nil
}

// SubscriptionPayments returns every charge attempt of the subscription
// (renewals and dunning retries), newest first (at most limit).
func (s *Store) SubscriptionPayments(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.Payment, error) {
	ps, err := s.queryPayments(ctx, s.DB, `SELECT `+paymentColumns+` FROM payments WHERE merchant_id = $1
		AND merchant_uid LIKE $2 ESCAPE '\' ORDER BY id DESC LIMIT $3`, merchantID, subscriptionOrderLike(id), limit)
	if err != nil {
		return nil, err
	}
	return ofSubscription(id, ps, func(p *billkey.Payment) string { return p.MerchantUID }), nil
}

// SubscriptionEvents returns the subscription.* events of the
// subscription, newest first (at most limit).
func (s *Store) SubscriptionEvents(ctx context.Context, merchantID, id int64, limit int) ([]*billkey.SubscriptionEventRow, error) {
	evs, err := queryAll(ctx, s.DB, "subscription events", func(row rowScanner) (*billkey.SubscriptionEventRow, error) {
		var e billkey.SubscriptionEventRow
		var created int64
		err := row.Scan(&e.ID, &e.Type, &e.MerchantUID, &e.ImpUID, &created)
		e.CreatedAt = fromUnix(created)
		return &e, err
	}, `SELECT id, status, merchant_uid, imp_uid, created_at FROM events WHERE merchant_id = $1 AND merchant_uid LIKE $2 ESCAPE '\'
		AND status LIKE 'subscription.%' ORDER BY id DESC LIMIT $3`, merchantID, subscriptionOrderLike(id), limit)
	if err != nil {
		return nil, err
	}
	return ofSubscription(id, evs, func(e *billkey.SubscriptionEventRow) string { return e.MerchantUID }), nil
}
