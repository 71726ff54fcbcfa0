package verk

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"time"
)

// PublicKeyVerifier checks deliveries of webhooks whose signatureScheme is ed25519 or
// rsa-sha256 against the organization's published public keys (the pem of each key from
// GET /v1/webhooks/signing-keys; pass every published key during a rotation's overlap).
// Tolerance defaults to 5 minutes; Now to time.Now.
type PublicKeyVerifier struct {
	PEMs      []string
	Tolerance time.Duration
	Now       func() time.Time
}

// VerifyWebhookPublicKey checks that a request is a delivery from Verk signed by one of
// the published public keys (PEM) and returns its event:
//
//   - Ed25519: a "v1a," entry of webhook-signature must verify over
//     "webhook-id.webhook-timestamp.body", the timestamp within the tolerance;
//   - RSA: X-Verk-Signature-RSA (or X-Verk-Signature-RSA-Next during a key rotation),
//     RSASSA-PKCS1-v1_5 SHA-256 over the raw body, must verify. It covers no timestamp.
//
// The error is a *WebhookVerificationError.
func VerifyWebhookPublicKey(rawBody []byte, headers http.Header, pems ...string) (*WebhookEvent, error) {
	return PublicKeyVerifier{PEMs: pems}.Verify(rawBody, headers)
}

// Verify is VerifyWebhookPublicKey with the verifier's keys, tolerance and clock.
func (v PublicKeyVerifier) Verify(rawBody []byte, headers http.Header) (*WebhookEvent, error) {
	var edKeys []ed25519.PublicKey
	var rsaKeys []*rsa.PublicKey
	for _, text := range v.PEMs {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, refuse("MISSING_SIGNATURE", "a public key is not PEM")
		}
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, refuse("MISSING_SIGNATURE", "a public key does not parse: "+err.Error())
		}
		switch key := parsed.(type) {
		case ed25519.PublicKey:
			edKeys = append(edKeys, key)
		case *rsa.PublicKey:
			rsaKeys = append(rsaKeys, key)
		}
	}
	id, timestamp := headers.Get("Webhook-Id"), headers.Get("Webhook-Timestamp")
	var entries []string
	for _, s := range strings.Split(headers.Get("Webhook-Signature"), " ") {
		if strings.HasPrefix(s, "v1a,") {
			entries = append(entries, strings.TrimPrefix(s, "v1a,"))
		}
	}
	var rsaSignatures []string
	for _, name := range []string{"X-Verk-Signature-Rsa", "X-Verk-Signature-Rsa-Next"} {
		if value := headers.Get(name); value != "" {
			rsaSignatures = append(rsaSignatures, value)
		}
	}
	edUsable := len(edKeys) > 0 && len(entries) > 0 && id != "" && timestamp != ""
	rsaUsable := len(rsaKeys) > 0 && len(rsaSignatures) > 0
	if !edUsable && !rsaUsable {
		return nil, refuse("MISSING_SIGNATURE", "no v1a webhook-signature nor X-Verk-Signature-RSA for the keys given")
	}
	verified := false
	if edUsable {
		if err := checkTimestamp(timestamp, v.Now, v.Tolerance); err != nil {
			return nil, err
		}
		signed := append([]byte(id+"."+timestamp+"."), rawBody...)
		for _, key := range edKeys {
			for _, entry := range entries {
				if sig, err := base64.StdEncoding.DecodeString(entry); err == nil && ed25519.Verify(key, signed, sig) {
					verified = true
				}
			}
		}
	}
	if !verified && rsaUsable {
		digest := sha256.Sum256(rawBody)
		for _, key := range rsaKeys {
			for _, value := range rsaSignatures {
				sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
				if err == nil && rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil {
					verified = true
				}
			}
		}
	}
	if !verified {
		return nil, refuse("INVALID_SIGNATURE", "no signature verifies with the public keys given")
	}
	return decodeEvent(rawBody)
}
