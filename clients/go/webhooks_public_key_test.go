package verk

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"testing"
	"time"
)

// Signatures made as the server makes them (README "Public-key signatures"), with Go's
// own crypto; the TypeScript SDK's helper is checked against real deliveries in workerd.

const publicKeyBody = `{"id":"evt_1","event":"task.created","timestamp":"2026-01-01T00:00:00.000Z","webhookId":"wh_1","deliveryId":"del_1","data":{"id":"task_1","title":"Ship it"}}`

func pemOf(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func refusalCode(t *testing.T, err error) string {
	t.Helper()
	var refused *WebhookVerificationError
	if !errors.As(err, &refused) {
		t.Fatalf("expected a WebhookVerificationError, got %v", err)
	}
	return refused.Code
}

func TestVerifyWebhookPublicKeyEd25519(t *testing.T) {
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	otherPublic, otherPrivate, _ := ed25519.GenerateKey(rand.Reader)
	timestamp := "1767225600"
	sign := func(key ed25519.PrivateKey, body string) string {
		return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte("del_1."+timestamp+"."+body)))
	}
	headers := http.Header{}
	headers.Set("webhook-id", "del_1")
	headers.Set("webhook-timestamp", timestamp)
	headers.Set("webhook-signature", "v1,aGVsbG8= "+sign(private, publicKeyBody)+" "+sign(otherPrivate, publicKeyBody))
	verifier := PublicKeyVerifier{PEMs: []string{pemOf(t, public)}, Now: func() time.Time { return time.Unix(1767225630, 0) }}
	event, err := verifier.Verify([]byte(publicKeyBody), headers)
	if err != nil || event.ID != "evt_1" || event.Task == nil {
		t.Fatalf("expected the event, got %v %v", event, err)
	}
	// During a rotation either key verifies.
	verifier.PEMs = []string{pemOf(t, otherPublic)}
	if _, err := verifier.Verify([]byte(publicKeyBody), headers); err != nil {
		t.Fatal(err)
	}
	if code := refusalCode(t, func() error { _, err := verifier.Verify([]byte(publicKeyBody+" "), headers); return err }()); code != "INVALID_SIGNATURE" {
		t.Fatalf("tampered body: %s", code)
	}
	verifier.Now = func() time.Time { return time.Unix(1767226600, 0) }
	if code := refusalCode(t, func() error { _, err := verifier.Verify([]byte(publicKeyBody), headers); return err }()); code != "TIMESTAMP_OUT_OF_TOLERANCE" {
		t.Fatalf("old timestamp: %s", code)
	}
}

func TestVerifyWebhookPublicKeyRSA(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	next, _ := rsa.GenerateKey(rand.Reader, 2048)
	sign := func(k *rsa.PrivateKey) string {
		digest := sha256.Sum256([]byte(publicKeyBody))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
		return base64.StdEncoding.EncodeToString(sig)
	}
	headers := http.Header{}
	headers.Set("X-Verk-Signature-RSA", sign(key))
	if _, err := VerifyWebhookPublicKey([]byte(publicKeyBody), headers, pemOf(t, &key.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if code := refusalCode(t, func() error {
		_, err := VerifyWebhookPublicKey([]byte(publicKeyBody), headers, pemOf(t, &next.PublicKey))
		return err
	}()); code != "INVALID_SIGNATURE" {
		t.Fatalf("other key: %s", code)
	}
	headers.Set("X-Verk-Signature-RSA-Next", sign(next))
	if _, err := VerifyWebhookPublicKey([]byte(publicKeyBody), headers, pemOf(t, &next.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if code := refusalCode(t, func() error {
		_, err := VerifyWebhookPublicKey([]byte(publicKeyBody), http.Header{}, pemOf(t, &key.PublicKey))
		return err
	}()); code != "MISSING_SIGNATURE" {
		t.Fatalf("no header: %s", code)
	}
}
