package inicis

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/billkey/billkey"
)

// Credentials are one INICIS MID's secrets, the format of an INICIS
// channel's opaque billkey.ChannelCredentials (JSON with the tags below,
// the format billkey has always stored, sealed, for INICIS channels).
// String and LogValue redact them.
type Credentials struct {
	SignKey string `json:"sign_key"` // INIStdPay web signKey
	APIKey  string `json:"api_key"`  // INIAPI key
	APIIV   string `json:"api_iv"`   // INIAPI IV (16 raw bytes, used as-is)
	LiteKey string `json:"lite_key"` // INILite key (legacy mobile window)
}

// String redacts every secret.
func (Credentials) String() string { return "inicis.Credentials{redacted}" }

// GoString redacts every secret (fmt's %#v).
func (Credentials) GoString() string { return "inicis.Credentials{redacted}" }

// LogValue redacts every secret.
func (Credentials) LogValue() slog.Value { return slog.StringValue("redacted") }

// Encode returns the credentials as a channel's opaque blob.
func (c Credentials) Encode() billkey.ChannelCredentials {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // four strings always marshal
	}
	return b
}

// ParseCredentials reads an INICIS channel's credentials. An empty blob is
// a channel with no secrets; anything else that is not the JSON object of
// Credentials is an *billkey.Error EINVALID (its content is never quoted).
func ParseCredentials(b billkey.ChannelCredentials) (Credentials, error) {
	var c Credentials
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return Credentials{}, billkey.WrapError(billkey.EINVALID, "KG이니시스 채널 인증정보를 읽을 수 없습니다. (unreadable INICIS credentials)",
			fmt.Errorf("inicis: credentials: %T", err))
	}
	return c, nil
}

// credentialsOf parses a channel's credentials for a call.
func credentialsOf(ch billkey.PGChannel) (Credentials, error) {
	c, err := ParseCredentials(ch.Credentials)
	if err != nil {
		return c, fmt.Errorf("inicis: channel %s: %w", ch.MID, err)
	}
	return c, nil
}

// CheckCredentials is the INICIS provider's check of a new channel's
// credentials: readable, and a live channel has its INIAPI key and IV.
func CheckCredentials(live bool, b billkey.ChannelCredentials) error {
	c, err := ParseCredentials(b)
	if err != nil {
		return err
	}
	if live && (c.APIKey == "" || c.APIIV == "") {
		return billkey.Errorf(billkey.EINVALID, "a live channel needs its INIAPI key and IV")
	}
	return nil
}

// TestMID is the public KG INICIS test billing MID, which a new merchant's
// test channel uses against the simulator.
const TestMID = "INIBillTst"

// TestCredentials are the public KG INICIS test credentials of TestMID
// (published in INICIS's sample code).
var TestCredentials = Credentials{
	SignKey: "SU5JTElURV9UUklQTEVERVNfS0VZU1RS",
	APIKey:  "rKnPljRn5m6J9Mzz",
	APIIV:   "W2KLNKra6Wxc1P==",
	LiteKey: "b09LVzhuTGZVaEY1WmJoQnZzdXpRdz09",
}
