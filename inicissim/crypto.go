package inicissim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// The simulator implements INICIS's hash and cipher recipes on its own,
// without importing the inicis client, so that a mistake in one is caught
// by the other.

func sha512Of(parts ...string) string {
	h := sha512.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Of(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashOK compares a received hex digest with the expected one,
// case-insensitively and in constant time.
func hashOK(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// aesDecrypt decrypts an INIAPI [ENC] field: base64, AES-128-CBC with the
// raw key and IV bytes, PKCS#7.
func aesDecrypt(enc, key, iv string) (string, error) {
	if len(key) != 16 || len(iv) != 16 {
		return "", errors.New("key and IV must be 16 bytes")
	}
	buf, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return "", errors.New("ciphertext length")
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return "", err
	}
	cipher.NewCBCDecrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	n := int(buf[len(buf)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(buf[len(buf)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return "", errors.New("padding")
	}
	return string(buf[:len(buf)-n]), nil
}

// authSignatureOf is the StdPay STEP 4 authSignature: the last digit of the
// merchant's STEP 3 timestamp chooses the order of the pairs.
func authSignatureOf(mid, moid, totPrice, tstamp string) string {
	pairs := map[byte]string{
		'1': "MOID=" + moid + "&mid=" + mid + "&tstamp=" + tstamp,
		'2': "MOID=" + moid + "&tstamp=" + tstamp + "&mid=" + mid,
		'3': "mid=" + mid + "&MOID=" + moid + "&tstamp=" + tstamp,
		'4': "mid=" + mid + "&tstamp=" + tstamp + "&MOID=" + moid,
		'5': "tstamp=" + tstamp + "&mid=" + mid + "&MOID=" + moid,
		'6': "tstamp=" + tstamp + "&MOID=" + moid + "&mid=" + mid,
		'7': "TotPrice=" + totPrice + "&mid=" + mid + "&tstamp=" + tstamp,
		'8': "TotPrice=" + totPrice + "&tstamp=" + tstamp + "&mid=" + mid,
		'9': "TotPrice=" + totPrice + "&MOID=" + moid + "&tstamp=" + tstamp,
		'0': "TotPrice=" + totPrice + "&tstamp=" + tstamp + "&MOID=" + moid,
	}
	if tstamp == "" {
		return ""
	}
	s, ok := pairs[tstamp[len(tstamp)-1]]
	if !ok {
		return ""
	}
	return sha256Of(s)
}
