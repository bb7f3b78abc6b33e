package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/billkey/billkey"
)

// noBillingChannel is i'mport's message when no API-billing PG is set up.
const noBillingChannel = "비인증결제모듈 사용정보를 찾을 수 없습니다."

// ResolveChannel picks the merchant's channel for a pg parameter, by
// i'mport's rules: "" → the default channel; "html5_inicis" or "inicis" →
// the first channel of that provider (either INICIS code matches an INICIS
// channel); "{pg}.{MID}" → the channel with that MID. With strict unset (REST
// calls), a pg value that matches nothing falls back to the default channel,
// as i'mport does; with strict set (the payment window) it is an error.
func (s *Service) ResolveChannel(ctx context.Context, merchantID int64, pg string, strict bool) (*billkey.Channel, error) {
	chs, err := s.channels(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	if len(chs) == 0 {
		return nil, billkey.Errorf(billkey.EREJECTED, noBillingChannel)
	}
	ch := matchChannel(s.PGs, chs, strings.TrimSpace(pg))
	if ch == nil {
		if strict {
			return nil, billkey.Errorf(billkey.EREJECTED, "pg 파라미터(%q)에 해당하는 PG 설정을 찾을 수 없습니다. (%s, {pg}.{MID})", truncate(pg, 80), strings.Join(s.PGs.Names(), ", "))
		}
		ch = chs[0] // default first
	}
	return s.usable(ch)
}

// ChannelKey is the PortOne-style channel key of a channel
// ("channel-key-" and a UUID-shaped digest of the merchant's id, the
// channel's id and its MID): stable, shown by `billkey channel list`, and, like
// PortOne's, public (pages embed it). IMP.request_pay's channelKey picks the
// channel with that key.
func ChannelKey(ch *billkey.Channel) string {
	sum := sha256.Sum256([]byte("billkey channel key\x00" + strconv.FormatInt(ch.MerchantID, 10) + "\x00" +
		strconv.FormatInt(ch.ID, 10) + "\x00" + ch.MID))
	h := hex.EncodeToString(sum[:16])
	return "channel-key-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// windowChannel picks the payment window's channel: by channelKey when the
// page gives one (a key of none of the merchant's channels is an error, as
// PortOne refuses an unknown channel key), else by pg as ResolveChannel
// does, falling back to the default channel when pg matches nothing — what
// i'mport does ("매칭되지 않는 경우 기본PG"), so a stale
// "html5_inicis.{MID}" copied from a sample still opens the window.
func (s *Service) windowChannel(ctx context.Context, merchantID int64, channelKey, pg string) (*billkey.Channel, error) {
	channelKey = strings.TrimSpace(channelKey)
	if channelKey == "" {
		return s.ResolveChannel(ctx, merchantID, pg, false)
	}
	chs, err := s.channels(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		if ChannelKey(ch) == channelKey {
			return s.usable(ch)
		}
	}
	return nil, billkey.Errorf(billkey.EREJECTED, "channelKey(%q)에 해당하는 채널을 찾을 수 없습니다. `billkey channel list`의 CHANNEL KEY를 확인해주세요.", truncate(channelKey, 80))
}

// usable refuses channels of a provider the registry does not know, and live
// channels unless live mode is allowed.
func (s *Service) usable(ch *billkey.Channel) (*billkey.Channel, error) {
	if err := s.checkProvider(ch); err != nil {
		return nil, err
	}
	if ch.Live && !s.AllowLive {
		return nil, billkey.Errorf(billkey.EREJECTED, "실결제(live) 채널은 명시적인 마스터 키 설정 후에만 사용할 수 있습니다. (live channel %s needs an explicit master key)", ch.MID)
	}
	return ch, nil
}

// matchChannel applies the pg parameter rules: the provider part must be a
// registered name; a channel of exactly that provider wins over one of the
// same PG under another name ("inicis" for "html5_inicis").
func matchChannel(pgs *billkey.PGRegistry, chs []*billkey.Channel, pg string) *billkey.Channel {
	if pg == "" {
		return chs[0]
	}
	provider, mid, hasMID := strings.Cut(pg, ".")
	if !pgs.Known(provider) {
		return nil
	}
	if hasMID {
		for _, ch := range chs {
			if ch.MID == mid && ch.Provider == provider {
				return ch
			}
		}
		for _, ch := range chs {
			if ch.MID == mid && pgs.Same(ch.Provider, provider) {
				return ch
			}
		}
		return nil
	}
	for _, ch := range chs {
		if ch.Provider == provider {
			return ch
		}
	}
	for _, ch := range chs {
		if pgs.Same(ch.Provider, provider) {
			return ch
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
