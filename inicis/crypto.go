package inicis

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
	"fmt"
	"strings"
)

// EncryptField encrypts one INIAPI "[ENC]" field: AES-128-CBC with PKCS#7
// padding, the 16 raw bytes of the INIAPI key as key and of the INIAPI IV as
// IV (the IV string is not base64-decoded even though it ends in "=="), and
// standard base64 output.
func EncryptField(plain, key, iv string) (string, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptField reverses EncryptField. It fails on bad base64, a length that
// is not a multiple of the block size, or bad padding.
func DecryptField(enc, key, iv string) (string, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return "", err
	}
	buf, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("inicis: decrypt: %w", err)
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return "", errors.New("inicis: decrypt: ciphertext is not a whole number of blocks")
	}
	cipher.NewCBCDecrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(buf[len(buf)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", errors.New("inicis: decrypt: bad padding")
	}
	return string(buf[:len(buf)-pad]), nil
}

func newBlock(key, iv string) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("inicis: INIAPI key must be 16 bytes, got %d", len(key))
	}
	if len(iv) != 16 {
		return nil, fmt.Errorf("inicis: INIAPI IV must be 16 bytes, got %d", len(iv))
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("inicis: %w", err)
	}
	return block, nil
}

// sha512Hex is lowercase hex SHA-512 of the plain concatenation of parts
// (INIAPI hashData).
func sha512Hex(parts ...string) string {
	h := sha512.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sha256Hex is lowercase hex SHA-256 of the plain concatenation of parts
// (INIStdPay signatures, legacy INILite hashdata).
func sha256Hex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// billingHash is hashData of INIAPI v1 /api/v1/billing (type Billing and
// Auth): SHA512(key + type + paymethod + timestamp + clientIp + mid + moid +
// price + last), where last is the billKey (Billing) or the encrypted
// cardNumber (Auth).
func billingHash(key, typ, paymethod, timestamp, clientIP, mid, moid, price, last string) string {
	return sha512Hex(key, typ, paymethod, timestamp, clientIP, mid, moid, price, last)
}

// refundHash is hashData of /api/v1/refund type Refund:
// SHA512(key + type + paymethod + timestamp + clientIp + mid + tid).
func refundHash(key, typ, paymethod, timestamp, clientIP, mid, tid string) string {
	return sha512Hex(key, typ, paymethod, timestamp, clientIP, mid, tid)
}

// partialRefundHash is hashData of /api/v1/refund type PartialRefund:
// SHA512(key + type + paymethod + timestamp + clientIp + mid + tid + price +
// confirmPrice).
func partialRefundHash(key, typ, paymethod, timestamp, clientIP, mid, tid, price, confirmPrice string) string {
	return sha512Hex(key, typ, paymethod, timestamp, clientIP, mid, tid, price, confirmPrice)
}

// v2Hash is hashData of the INIAPI v2 JSON envelope:
// SHA512(key + mid + type + timestamp + dataJSON), dataJSON byte-identical to
// what is sent.
func v2Hash(key, mid, typ, timestamp string, data []byte) string {
	return sha512Hex(key, mid, typ, timestamp, string(data))
}

// stdSignature is the INIStdPay window signature:
// SHA256("oid=" + oid + "&price=" + price + "&timestamp=" + timestamp).
func stdSignature(oid, price, timestamp string) string {
	return sha256Hex("oid=", oid, "&price=", price, "&timestamp=", timestamp)
}

// stdVerification is the INIStdPay window verification (use_chkfake=Y):
// SHA256("oid=" + oid + "&price=" + price + "&signKey=" + signKey +
// "&timestamp=" + timestamp).
func stdVerification(oid, price, signKey, timestamp string) string {
	return sha256Hex("oid=", oid, "&price=", price, "&signKey=", signKey, "&timestamp=", timestamp)
}

// stdMKey is SHA256(signKey).
func stdMKey(signKey string) string { return sha256Hex(signKey) }

// authSignature is the STEP 3 approval signature:
// SHA256("authToken=" + authToken + "&timestamp=" + timestamp).
func authSignature(authToken, timestamp string) string {
	return sha256Hex("authToken=", authToken, "&timestamp=", timestamp)
}

// authVerification is the STEP 3 approval verification:
// SHA256("authToken=" + authToken + "&signKey=" + signKey + "&timestamp=" +
// timestamp).
func authVerification(authToken, signKey, timestamp string) string {
	return sha256Hex("authToken=", authToken, "&signKey=", signKey, "&timestamp=", timestamp)
}

// replySignature is the STEP 4 authSignature INICIS puts in its approval
// reply: the last digit of the merchant's STEP 3 timestamp picks the order of
// the MOID / mid / TotPrice / tstamp pairs, then SHA-256 hex.
func replySignature(mid, moid, totPrice, tstamp string) string {
	if tstamp == "" {
		return ""
	}
	var s string
	switch tstamp[len(tstamp)-1] {
	case '1':
		s = "MOID=" + moid + "&mid=" + mid + "&tstamp=" + tstamp
	case '2':
		s = "MOID=" + moid + "&tstamp=" + tstamp + "&mid=" + mid
	case '3':
		s = "mid=" + mid + "&MOID=" + moid + "&tstamp=" + tstamp
	case '4':
		s = "mid=" + mid + "&tstamp=" + tstamp + "&MOID=" + moid
	case '5':
		s = "tstamp=" + tstamp + "&mid=" + mid + "&MOID=" + moid
	case '6':
		s = "tstamp=" + tstamp + "&MOID=" + moid + "&mid=" + mid
	case '7':
		s = "TotPrice=" + totPrice + "&mid=" + mid + "&tstamp=" + tstamp
	case '8':
		s = "TotPrice=" + totPrice + "&tstamp=" + tstamp + "&mid=" + mid
	case '9':
		s = "TotPrice=" + totPrice + "&MOID=" + moid + "&tstamp=" + tstamp
	case '0':
		s = "TotPrice=" + totPrice + "&tstamp=" + tstamp + "&MOID=" + moid
	default:
		return ""
	}
	return sha256Hex(s)
}

// liteHash is the legacy INILite hashdata: SHA256(mid + orderid + timestamp +
// INILiteKey).
func liteHash(mid, orderID, timestamp, liteKey string) string {
	return sha256Hex(mid, orderID, timestamp, liteKey)
}

// hexEqual compares two hex digests case-insensitively in constant time.
func hexEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(a)), []byte(strings.ToLower(b))) == 1
}
