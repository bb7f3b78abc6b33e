package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/window/sdk"
)

// windowAttempt finds the attempt of a token; ENOTFOUND for a malformed or
// unknown token.
func (s *Service) windowAttempt(ctx context.Context, token string) (*billkey.WindowAttempt, error) {
	hash, ok := WindowTokenHash(token)
	if !ok {
		return nil, billkey.Errorf(billkey.ENOTFOUND, msgWindowNotFound)
	}
	a, err := s.Store.WindowAttemptByToken(ctx, hash)
	if billkey.ErrorCode(err) == billkey.ENOTFOUND {
		return nil, billkey.WrapError(billkey.ENOTFOUND, msgWindowNotFound, err)
	}
	return a, err
}

// finished returns the recorded result of an attempt that is no longer
// open, or an EREJECTED error while another request processes it.
func (s *Service) finished(a *billkey.WindowAttempt) (*WindowResult, error) {
	if a.State == billkey.WindowProcessing {
		return nil, rejectf(msgWindowBusy)
	}
	var out windowOutcome
	if err := json.Unmarshal(a.Result, &out); err != nil || out.Rsp == nil {
		return nil, fmt.Errorf("gateway: window attempt %d has no readable result: %w", a.ID, err)
	}
	return &WindowResult{Attempt: a, Rsp: out.Rsp, Replayed: true}, nil
}

// CompleteWindow handles the PG's return post for an attempt token (KG
// INICIS: the STEP 2 post of INIStdPay, PC and phones alike). The first
// post claims the attempt; a replayed post gets the recorded result and
// nothing is processed again. On success the channel's provider redeems the
// post server to server for the key (the post only carries what the
// provider redeems: for INICIS an authToken, redeemed at INICIS's fixed
// approval URL with the signed reply checked); the key is stored under the
// attempt's customer_uid and the issuance payment becomes paid (amount 0)
// with its webhook event. When storing fails after the PG approved, the
// approval is voided (INICIS's net cancel). Every other outcome (refusal,
// cancel, tampering, expiry) fails the attempt and its payment, without a
// webhook, and is reported in the rsp.
//
// Errors: ENOTFOUND for an unknown token, EREJECTED while another request
// processes the attempt; anything else is internal.
func (s *Service) CompleteWindow(ctx context.Context, token string, post url.Values) (*WindowResult, error) {
	a, err := s.windowAttempt(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.State != billkey.WindowOpen {
		return s.finished(a)
	}
	now := s.Now()
	if !now.Before(a.ExpiresAt) {
		return s.expireWindow(ctx, a)
	}
	claimed, err := s.Store.ClaimWindowAttempt(ctx, a.ID, now)
	if err != nil {
		return nil, err
	}
	if !claimed { // someone else got there first, or it just expired
		if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
			return nil, err
		}
		if a.State == billkey.WindowOpen {
			return s.expireWindow(ctx, a)
		}
		return s.finished(a)
	}
	// From here on the attempt is ours: finish it whatever the caller does.
	ctx = context.WithoutCancel(ctx)
	if err := checkReturnPost(post); err != nil {
		// Not the PG's post: nothing is sent to the PG for it.
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, "", billkey.ErrorMessage(err)))
	}
	ch, err := s.Store.ChannelByID(ctx, a.MerchantID, a.ChannelID)
	if err == nil {
		ch, err = s.usable(ch)
	}
	if err != nil {
		s.Logger.Error("payment window: channel unavailable", "imp_uid", a.ImpUID, "error", err)
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, billkey.ErrorMessage(err)))
	}
	// The key comes from the PG's server-to-server approval, never from
	// the browser.
	key, undo, pgErr := s.approve(ctx, a, ch, post)
	if pgErr == nil {
		pgErr = s.claimCardUpdate(ctx, a, undo) // cardupdate.go: a link replaces one card, once
	}
	if pgErr != nil {
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, pgErrorCode(pgErr), billkey.ErrorMessage(pgErr)))
	}
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err == nil {
		_, err = s.SaveIssuedKey(ctx, a.MerchantID, ch, a.CustomerUID, a.CustomerID, key, pay.Buyer)
	}
	if err != nil {
		s.releaseCardUpdate(ctx, a)
		msg := "빌링키를 저장하지 못했습니다. 다시 시도해주세요. (billing key could not be stored)"
		switch {
		case undo(ctx) != nil:
			s.Logger.Error("payment window: key not stored and the net cancel failed", "imp_uid", a.ImpUID, "pg_tid", key.PGTID, "error", err)
		default:
			s.Logger.Error("payment window: key not stored; PG approval net-cancelled", "imp_uid", a.ImpUID, "error", err)
			msg = "빌링키를 저장하지 못해 발급을 취소했습니다(망취소). 다시 시도해주세요. (billing key could not be stored; net-cancelled)"
		}
		return s.orFinished(ctx, a)(s.failWindow(ctx, a, []string{billkey.WindowProcessing}, ErrCodeServer, msg))
	}
	res, err := s.succeedWindow(ctx, a, pay, key)
	if err == nil {
		s.cardUpdated(ctx, a) // cardupdate.go: the declined charge retried with the new card
	}
	return res, err
}

// orFinished turns failWindow's "the attempt had left those states" (nil,
// nil) into the attempt's recorded result.
func (s *Service) orFinished(ctx context.Context, a *billkey.WindowAttempt) func(*WindowResult, error) (*WindowResult, error) {
	return func(res *WindowResult, err error) (*WindowResult, error) {
		if err != nil || res != nil {
			return res, err
		}
		cur, err := s.Store.WindowAttemptByID(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		return s.finished(cur)
	}
}

// approve has the channel's provider redeem the return post. undo voids
// the approval (INICIS's net cancel).
func (s *Service) approve(ctx context.Context, a *billkey.WindowAttempt, ch *billkey.Channel, post url.Values) (*billkey.BillingKey, func(context.Context) error, error) {
	wpg, err := s.windowOf(ch)
	if err != nil {
		return nil, nil, err
	}
	key, err := wpg.ApproveWindow(ctx, ch.PGChannel(), a.OrderID, post)
	if err != nil {
		return nil, nil, err
	}
	return key, func(ctx context.Context) error { return wpg.CancelWindow(ctx, ch.PGChannel(), post) }, nil
}

// pgErrorCode is the rsp's error_code for a failed PG step: the PG's
// result code when it gave one (a card refusal's own code, the same on PC
// and mobile); F400 for a return post billkey refused
// (malformed or not matching the attempt); F500 otherwise.
func pgErrorCode(err error) string {
	if c := billkey.PGResultCode(err); c != "" {
		return c
	}
	switch billkey.ErrorCode(err) {
	case billkey.EREJECTED, billkey.EINVALID:
		return ErrCodeBadRequest
	}
	return ErrCodeServer
}

// CloseWindow handles the buyer closing the window before the PG returned
// (the PG's close URL, or the SDK's close button): an open attempt fails as
// cancelled by the buyer. A finished attempt gets its recorded result.
//
// Errors: ENOTFOUND for an unknown token, EREJECTED while a return post is
// being processed.
func (s *Service) CloseWindow(ctx context.Context, token string) (*WindowResult, error) {
	a, err := s.windowAttempt(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.State != billkey.WindowOpen {
		return s.finished(a)
	}
	code := ErrCodeServer
	if ch, err := s.channel(ctx, a.MerchantID, a.ChannelID); err == nil {
		if wpg, err := s.windowOf(ch); err == nil {
			code = wpg.WindowClosedCode()
		}
	}
	res, err := s.failWindow(context.WithoutCancel(ctx), a, []string{billkey.WindowOpen}, code, msgUserCancel)
	if err != nil {
		return nil, err
	}
	if res == nil { // a return post claimed it meanwhile
		if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
			return nil, err
		}
		return s.finished(a)
	}
	return res, nil
}

// expireWindow fails an open attempt whose time is up.
func (s *Service) expireWindow(ctx context.Context, a *billkey.WindowAttempt) (*WindowResult, error) {
	msg := fmt.Sprintf("결제창 유효시간(%d분)이 지났습니다. 다시 시도해주세요. (window expired)", int(s.windowTTL().Minutes()))
	res, err := s.failWindow(context.WithoutCancel(ctx), a, []string{billkey.WindowOpen}, ErrCodeExpired, msg)
	if err != nil || res != nil {
		return res, err
	}
	if a, err = s.Store.WindowAttemptByID(ctx, a.ID); err != nil {
		return nil, err
	}
	return s.finished(a)
}

// failWindow records a failed outcome: the attempt (if it is in one of the
// states from) and its payment become failed, without a webhook event (i'mport
// sends none for failed window payments). It returns nil, nil when the
// attempt had left those states.
func (s *Service) failWindow(ctx context.Context, a *billkey.WindowAttempt, from []string, code, msg string) (*WindowResult, error) {
	pay, err := s.Store.PaymentByImpUID(ctx, a.MerchantID, a.ImpUID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	pay.Status, pay.OutcomeUnknown, pay.FailReason, pay.FailedAt = billkey.StatusFailed, false, truncate(msg, 250), now
	rsp := sdk.Payment(pay, a.RequestID)
	rsp.ErrorMsg = &msg
	if code == "" {
		code = ErrCodeServer
	}
	rsp.ErrorCode = &code
	out, err := json.Marshal(windowOutcome{Rsp: rsp})
	if err != nil {
		return nil, fmt.Errorf("gateway: window result: %w", err)
	}
	ok, err := s.Store.FinishWindowAttempt(ctx, a.ID, from, billkey.WindowFailed, out, now)
	if err != nil || !ok {
		return nil, err
	}
	a.State, a.Result, a.FinishedAt = billkey.WindowFailed, out, now
	s.windowResult(windowFailure(code, msg))
	if _, err := s.Store.FinishPayment(ctx, pay, nil); err != nil {
		// The attempt is failed; the sweep cannot see this payment again,
		// so say it loudly. The rsp still reaches the buyer.
		s.Logger.Error("payment window: failed outcome not recorded on the payment", "imp_uid", a.ImpUID, "error", err)
	}
	s.Logger.Info("payment window failed", "imp_uid", a.ImpUID, "code", code, "reason", msg)
	return &WindowResult{Attempt: a, Rsp: rsp}, nil
}

// succeedWindow records a stored key: the attempt becomes done with its rsp,
// then the issuance payment becomes paid (amount 0) with its webhook event.
// If the payment cannot be recorded now, the sweep records it later from the
// attempt's result; the key is stored either way, so the buyer is told so.
func (s *Service) succeedWindow(ctx context.Context, a *billkey.WindowAttempt, pay *billkey.Payment, key *billkey.BillingKey) (*WindowResult, error) {
	now := s.Now()
	pay.Status, pay.OutcomeUnknown = billkey.StatusPaid, false
	pay.PGTID, pay.PaidAt = key.PGTID, key.IssuedAt
	if pay.PaidAt.IsZero() {
		pay.PaidAt = now
	}
	pay.CardCode, pay.CardName, pay.CardNumber = key.CardCode, key.CardName, key.CardNumber
	rsp := sdk.Payment(pay, a.RequestID)
	out, err := json.Marshal(windowOutcome{Rsp: rsp, CardCode: key.CardCode})
	if err != nil {
		return nil, fmt.Errorf("gateway: window result: %w", err)
	}
	if _, err := s.Store.FinishWindowAttempt(ctx, a.ID, []string{billkey.WindowProcessing}, billkey.WindowDone, out, now); err != nil {
		s.Logger.Error("payment window: key stored but the attempt could not be finished", "imp_uid", a.ImpUID, "error", err)
	}
	a.State, a.Result, a.FinishedAt = billkey.WindowDone, out, now
	s.windowResult("issued")
	s.recordIssued(ctx, pay)
	s.Logger.Info("payment window: billing key issued and stored", "imp_uid", a.ImpUID, "merchant_id", a.MerchantID,
		"customer_uid", a.CustomerUID, "pg_tid", key.PGTID)
	return &WindowResult{Attempt: a, Rsp: rsp}, nil
}

// recordIssued marks the issuance payment paid and queues its webhook.
func (s *Service) recordIssued(ctx context.Context, pay *billkey.Payment) {
	ev := &billkey.Event{MerchantID: pay.MerchantID, ImpUID: pay.ImpUID, MerchantUID: pay.MerchantUID, Status: billkey.StatusPaid,
		NoticeURL: pay.NoticeURL}
	if _, err := s.Store.FinishPayment(ctx, pay, ev); err != nil {
		s.Logger.Error("payment window: issuance not recorded on the payment yet; the sweep retries", "imp_uid", pay.ImpUID, "error", err)
	}
}
