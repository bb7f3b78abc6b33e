package gateway

import (
	"context"

	"github.com/billkey/billkey"
)

// ChargeForeign is POST /subscribe/payments/foreign, i'mport's legacy key-in
// charge for foreign cards, still called by the Python and Node clients: a
// onetime charge whose birth (a Korean birth date or business number) is
// optional, since foreign cardholders have none. Without birth, INICIS is
// asked to issue the key with no regNo, which it accepts only for foreign
// cards; a domestic card without birth is refused by INICIS with a card
// error (code -1). Everything else (prepare check, key saved under a given
// customer_uid after an approval) is as ChargeOnetime.
func (s *Service) ChargeForeign(ctx context.Context, merchantID int64, in OnetimeInput) (*billkey.Payment, error) {
	in.foreign = true
	return s.ChargeOnetime(ctx, merchantID, in)
}
