package gateway

import (
	"context"
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
	ch := matchChannel(chs, strings.TrimSpace(pg))
	if ch == nil {
		if strict {
			return nil, billkey.Errorf(billkey.EREJECTED, "pg 파라미터(%q)에 해당하는 PG 설정을 찾을 수 없습니다. (html5_inicis, inicis, html5_inicis.{MID})", truncate(pg, 80))
		}
		ch = chs[0] // default first
	}
	return s.usable(ch)
}

// usable refuses live channels unless live mode is allowed.
func (s *Service) usable(ch *billkey.Channel) (*billkey.Channel, error) {
	if ch.Live && !s.AllowLive {
		return nil, billkey.Errorf(billkey.EREJECTED, "실결제(live) 채널은 명시적인 마스터 키 설정 후에만 사용할 수 있습니다. (live channel %s needs an explicit master key)", ch.MID)
	}
	return ch, nil
}

func matchChannel(chs []*billkey.Channel, pg string) *billkey.Channel {
	if pg == "" {
		return chs[0]
	}
	provider, mid, hasMID := strings.Cut(pg, ".")
	if provider != billkey.ProviderHTML5Inicis && provider != billkey.ProviderInicis {
		return nil
	}
	if hasMID {
		for _, ch := range chs {
			if ch.MID == mid && ch.Provider == provider {
				return ch
			}
		}
		for _, ch := range chs {
			if ch.MID == mid {
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
	return chs[0] // both codes name INICIS, billkey's only PG
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
