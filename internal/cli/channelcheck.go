package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

// channelCheck is "billkey channel check": one harmless INIAPI call with a
// channel's credentials (an inquiry for an order id that cannot exist), so an
// operator learns before the first customer whether the MID, the INIAPI key
// and the network path to INICIS work. Nothing is charged or changed.
func channelCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("channel check")
	var impCode, mid, simURL string
	var timeout time.Duration
	fs.StringVar(&impCode, "merchant", "", "merchant imp code (required)")
	fs.StringVar(&mid, "mid", "", "the channel's INICIS MID (required)")
	bindSetting(fs, "inicis-sim-url", &simURL)
	fs.DurationVar(&timeout, "timeout", 15*time.Second, "how long to wait for INICIS")
	svc, _, err := setupRead(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if impCode == "" || mid == "" {
		fmt.Fprintln(stderr, "usage: billkey channel check --merchant IMP_CODE --mid MID [--inicis-sim-url URL]")
		return errUsage
	}
	m, err := sqlStore(svc).MerchantByImpCode(ctx, impCode)
	if err != nil {
		return fmt.Errorf("%s", billkey.ErrorMessage(err))
	}
	chs, err := sqlStore(svc).Channels(ctx, m.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(chs, func(ch *billkey.Channel) bool { return ch.MID == mid })
	if i < 0 {
		return fmt.Errorf("merchant %s has no channel with MID %s (billkey channel list --merchant %s)", impCode, mid, impCode)
	}
	ch := chs[i]
	if ch.Provider != billkey.ProviderHTML5Inicis && ch.Provider != billkey.ProviderInicis {
		return fmt.Errorf("channel %s.%s: billkey channel check knows KG INICIS channels only", ch.Provider, ch.MID)
	}
	cfg := inicis.Config{Live: inicis.ProductionEndpoints(), Timeout: timeout}
	target := inicis.ProductionEndpoints().INIAPI
	if !ch.Live {
		if simURL == "" {
			return errors.New("a test channel talks to the INICIS simulator: give its URL with --inicis-sim-url (a running billkey serve has it at BASE_URL/inicis-sim)")
		}
		cfg.Test = inicis.SimulatorEndpoints(simURL)
		target = cfg.Test.INIAPI
	}
	rep := runChannelCheck(ctx, inicis.New(cfg), ch.PGChannel())
	fmt.Fprintf(stdout, "channel %s.%s (%s), INIAPI %s\n", ch.Provider, ch.MID, mode(ch.Live), target)
	for _, l := range rep.lines {
		fmt.Fprintf(stdout, "  %-12s %s\n", l[0]+":", l[1])
	}
	if rep.failure != "" {
		fmt.Fprintln(stdout, "result: FAILED")
		return errors.New("channel check failed: " + rep.failure)
	}
	fmt.Fprintln(stdout, "result: ok")
	return nil
}

// checkReport is what a channel check found: labelled lines and, when
// something does not work, a one-line failure.
type checkReport struct {
	lines   [][2]string
	failure string
}

func (r *checkReport) add(label, text string) { r.lines = append(r.lines, [2]string{label, text}) }

func (r *checkReport) fail(label, text string) {
	r.add(label, "FAILED: "+text)
	if r.failure == "" {
		r.failure = text
	}
}

// runChannelCheck inquires about an order id no merchant can have used and
// reads INICIS's answer:
//   - "no such order" (or any inquiry answer): MID, key and network work;
//   - a transport error: the network path (DNS, firewall, TLS) fails;
//   - a refusal naming hashData: the INIAPI key is wrong;
//   - a refusal naming the MID (상점아이디): INICIS does not know the MID;
//   - any other refusal is shown verbatim: INICIS's "no such order" code is
//     not published, so billkey cannot tell it from other refusals.
//
// The INIAPI IV is not used by an inquiry (only by [ENC] fields of key-in
// issuance and bank refunds): it is checked for form only.
func runChannelCheck(ctx context.Context, c *inicis.Connector, ch billkey.PGChannel) checkReport {
	var r checkReport
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	orderID := "billkey-check-" + hex.EncodeToString(b)
	inq, err := c.Inquire(ctx, ch, orderID)
	var re *inicis.ResultError
	// A refusal the connector does not know reaches the reconciler as "no
	// approval state" with INICIS's "[code] message" as the reason: here it
	// is a refusal to read like any other.
	refused, text := false, ""
	if err == nil && inq.State == billkey.InquiryNoApproval {
		refused, text = true, inq.Reason
	} else if errors.As(err, &re) {
		refused, text = true, fmt.Sprintf("[%s] %s", re.Code, re.Message)
	}
	switch {
	case refused:
		r.add("network", "ok (INICIS answered)")
		low := strings.ToLower(text)
		switch {
		case strings.Contains(low, "hash") || strings.Contains(text, "위변조"):
			r.add("MID", "ok")
			r.fail("INIAPI key", "INICIS refused the hashData "+text+": the INIAPI key does not belong to this MID (상점관리자 > 상점정보 > 계약정보 > 부가정보 > INIAPI key)")
		case strings.Contains(text, "상점아이디") || strings.Contains(low, "mid"):
			r.fail("MID", "INICIS does not know this MID "+text)
		default:
			r.fail("answer", "INICIS refused the inquiry "+text+"; if this is INICIS's answer for an unknown order, the channel works: compare with the merchant admin")
		}
	case err == nil:
		r.add("network", "ok (INICIS answered)")
		r.add("MID", "ok")
		r.add("INIAPI key", "ok (hashData accepted)")
	case errors.Is(err, inicis.ErrNotSent):
		r.fail("network", "INICIS could not be reached (DNS, firewall or TLS): "+err.Error())
	default:
		r.fail("network", "no usable answer from INICIS: "+err.Error())
	}
	cr, err := inicis.ParseCredentials(ch.Credentials)
	if err == nil {
		_, err = inicis.EncryptField("billkey", cr.APIKey, cr.APIIV)
	}
	if err != nil {
		r.fail("INIAPI IV", "the key and IV cannot encrypt ("+err.Error()+"): both must be 16 characters")
	} else {
		r.add("INIAPI IV", "16 characters, usable (an inquiry does not exercise it)")
	}
	return r
}
