// Package testkeys makes throwaway vault keyrings for tests.
package testkeys

import (
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/billkey/billkey/vault"
)

// New returns a keyring with one random master key and a random MAC key.
func New(t testing.TB) vault.Owned {
	t.Helper()
	ring, err := vault.Parse("t1:"+random(), random())
	if err != nil {
		t.Fatalf("testkeys: %v", err)
	}
	return vault.Owned{Keyring: ring}
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
