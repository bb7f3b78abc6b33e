package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// ExpireWindows settles the attempts that need it: open ones past their
// expiry and ones stuck in processing fail (with their payments, which would
// otherwise stay ready forever: the reconciler only handles API payments),
// and done ones whose payment was left ready get it recorded as paid. It
// returns how many attempts it settled.
func (s *Service) ExpireWindows(ctx context.Context) (int, error) {
	now := s.Now()
	due, err := s.Store.DueWindowAttempts(ctx, now, now.Add(-windowStaleGrace), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range due {
		var err error
		switch a.State {
		case billkey.WindowOpen:
			_, err = s.expireWindow(ctx, a)
		case billkey.WindowProcessing:
			_, err = s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, msgWindowInterrupted)
		case billkey.WindowDone:
			err = s.recoverIssued(ctx, a)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// recoverIssued records on the payment an issuance whose attempt is done.
func (s *Service) recoverIssued(ctx context.Context, a *billkey.WindowAttempt) error {
	var out windowOutcome
	if err := json.Unmarshal(a.Result, &out); err != nil || out.Rsp == nil {
		return fmt.Errorf("gateway: window attempt %d: unreadable result: %w", a.ID, err)
	}
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err != nil {
		return err
	}
	pay.Status, pay.OutcomeUnknown, pay.CardCode = billkey.StatusPaid, false, out.CardCode
	pay.PaidAt = time.Unix(out.Rsp.PaidAt, 0)
	pay.PGTID, pay.CardName, pay.CardNumber = deref(out.Rsp.PGTID), deref(out.Rsp.CardName), deref(out.Rsp.CardNumber)
	ev := &billkey.Event{MerchantID: pay.MerchantID, ImpUID: pay.ImpUID, MerchantUID: pay.MerchantUID, Status: billkey.StatusPaid,
		NoticeURL: pay.NoticeURL}
	_, err = s.Store.FinishPayment(ctx, pay, ev)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RunWindowSweeper runs ExpireWindows every interval until ctx ends.
func (s *Service) RunWindowSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ExpireWindows(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("window sweeper", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
