package inicis

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// alreadyCancelled reports whether a refund refusal means the tid had been
// cancelled before: message "기 취소 거래" or detailResultCode 500626/512626.
func alreadyCancelled(r Reply) bool {
	_, msg := resultOf(r)
	switch r.Get("detailResultCode") {
	case "500626", "512626":
		return true
	}
	return strings.Contains(strings.ReplaceAll(msg, " ", ""), "기취소거래")
}

// refundTime reads when a refund was made: a full refund's reply carries
// cancelDate/cancelTime, a partial refund's prtcDate/prtcTime (with tid, the
// partial cancel's own tid, prtcTid, prtcPrice, prtcRemains, prtcCnt and
// prtcType), as INICIS's refund reply table lists them (docs/inicis.md).
func refundTime(r Reply) time.Time {
	if t := parseKST(r.Get("prtcDate"), r.Get("prtcTime")); !t.IsZero() {
		return t
	}
	return parseKST(r.Get("cancelDate"), r.Get("cancelTime"))
}

// Refund cancels all or part of an approval through INIAPI v1
// POST /api/v1/refund. Partial=false sends type=Refund (hashData over
// key+type+paymethod+timestamp+clientIp+mid+tid); Partial=true sends
// type=PartialRefund with price=Amount and confirmPrice=Remaining (hashData
// adds price+confirmPrice).
//
// A refusal "기 취소 거래" (already cancelled) is not an error: it returns
// AlreadyDone=true. Other refusals are EPG "[resultCode] resultMsg"; see
// billkey.PG for EUNCERTAIN.
func (c *Connector) Refund(ctx context.Context, ch billkey.PGChannel, req billkey.RefundRequest) (*billkey.RefundResult, error) {
	e, cr, err := c.channel(ch)
	if err != nil {
		return nil, err
	}
	key := cr.APIKey
	ts := apiTimestamp(c.cfg.Now())
	ip := c.clientIP(req.ClientIP)
	reason := req.Reason
	if reason == "" {
		reason = "취소"
	}
	form := url.Values{}
	form.Set("paymethod", payMethodCard)
	form.Set("timestamp", ts)
	form.Set("clientIp", ip)
	form.Set("mid", ch.MID)
	form.Set("tid", req.TID)
	form.Set("msg", reason)
	if req.Partial {
		price := strconv.FormatInt(req.Amount, 10)
		confirm := strconv.FormatInt(req.Remaining, 10)
		form.Set("type", typePartialRefund)
		form.Set("price", price)
		form.Set("confirmPrice", confirm)
		form.Set("currency", "WON")
		if req.VatAmount != nil {
			form.Set("tax", strconv.FormatInt(*req.VatAmount, 10))
		}
		if req.TaxFree > 0 {
			form.Set("taxFree", strconv.FormatInt(req.TaxFree, 10))
		}
		form.Set("hashData", partialRefundHash(key, typePartialRefund, payMethodCard, ts, ip, ch.MID, req.TID, price, confirm))
	} else {
		form.Set("type", typeRefund)
		form.Set("hashData", refundHash(key, typeRefund, payMethodCard, ts, ip, ch.MID, req.TID))
	}

	reply, err := c.postForm(ctx, "refund", e.INIAPI+"/api/v1/refund", form)
	if err != nil {
		return nil, err
	}
	code, msg := resultOf(reply)
	at := refundTime(reply)
	if at.IsZero() {
		at = c.cfg.Now()
	}
	switch {
	case code == resultOK:
		res := &billkey.RefundResult{CancelledAt: at}
		if t := reply.Get("tid"); t != req.TID {
			res.TID = t // a partial cancel's own tid
		}
		if rem := reply.Get("prtcRemains"); req.Partial && rem != "" && rem != strconv.FormatInt(req.Remaining, 10) {
			// INICIS checked confirmPrice, so this should never differ; if it
			// does, billkey's books and INICIS's disagree: say so loudly.
			c.log.LogAttrs(ctx, slog.LevelWarn, "inicis partial refund: remaining differs from INICIS", slog.String("mid", ch.MID),
				slog.String("tid", req.TID), slog.Int64("remaining", req.Remaining), slog.String("prtcRemains", rem))
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis refund done", slog.String("mid", ch.MID), slog.String("tid", req.TID),
			slog.Bool("partial", req.Partial), slog.Int64("amount", req.Amount))
		return res, nil
	case alreadyCancelled(reply):
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis refund already done", slog.String("mid", ch.MID), slog.String("tid", req.TID),
			slog.String("resultMsg", msg))
		return &billkey.RefundResult{CancelledAt: at, AlreadyDone: true}, nil
	default:
		re := refusal("refund", reply)
		re.TID = req.TID
		c.log.LogAttrs(ctx, slog.LevelInfo, "inicis refund refused", slog.String("mid", ch.MID), slog.String("tid", req.TID),
			slog.String("resultCode", code), slog.String("resultMsg", msg))
		return nil, pgRefusal(re)
	}
}
