package gateway

import (
	"context"

	"github.com/billkey/billkey"
)

// PG dispatch: every PG call goes to the provider the channel names, looked
// up in the Service's registry (PGs). Channel selection (usable) already
// refuses a channel whose provider is not registered, so the fallbacks
// below only guard against a registry changed under a running payment:
// they fail the call as a refusal with nothing sent, never a panic.

// pgOf returns the connector of the channel's provider.
func (s *Service) pgOf(ch *billkey.Channel) billkey.PG {
	p, err := s.PGs.Lookup(ch.Provider)
	if err != nil {
		return noPG{err: notSentPG(err)}
	}
	return p.PG
}

// windowOf returns the payment window side of the channel's provider; an
// EREJECTED error when it has none.
func (s *Service) windowOf(ch *billkey.Channel) (billkey.WindowPG, error) {
	p, err := s.PGs.Lookup(ch.Provider)
	if err != nil {
		return nil, err
	}
	if p.Window == nil {
		return nil, rejectf("PG 설정(%s)의 PG(%s)는 결제창을 지원하지 않습니다. (no payment window for this PG)", ch.MID, p.Name)
	}
	return p.Window, nil
}

// notSentPG is the refusal of a call for an unknown provider: nothing was
// sent to any PG.
func notSentPG(err error) error {
	return billkey.WrapError(billkey.EPG, billkey.ErrorMessage(err)+" 요청이 전달되지 않아 처리된 내용이 없습니다.", err)
}

// noPG answers every call with its error.
type noPG struct{ err error }

func (n noPG) IssueBillingKey(context.Context, billkey.PGChannel, billkey.IssueRequest) (*billkey.BillingKey, error) {
	return nil, n.err
}

func (n noPG) Charge(context.Context, billkey.PGChannel, billkey.ChargeRequest) (*billkey.Approval, error) {
	return nil, n.err
}

func (n noPG) Refund(context.Context, billkey.PGChannel, billkey.RefundRequest) (*billkey.RefundResult, error) {
	return nil, n.err
}

func (n noPG) Inquire(context.Context, billkey.PGChannel, string) (*billkey.Inquiry, error) {
	return nil, n.err
}

// checkProvider refuses a channel whose provider the registry does not
// know. A Service without a registry (PGs nil: tools that never call a PG)
// skips the check; its PG calls fail as refusals.
func (s *Service) checkProvider(ch *billkey.Channel) error {
	if s.PGs == nil {
		return nil
	}
	_, err := s.PGs.Lookup(ch.Provider)
	return err
}
