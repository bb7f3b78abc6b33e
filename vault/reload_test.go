package vault

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFileKeysFollowRotation: a running node's FileKeys opens blobs re-wrapped
// under a key another process added (billkey keys rotate), re-reading the
// file once however many callers hit the unknown id at the same moment.
func TestFileKeysFollowRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := GenerateFile(path); err != nil {
		t.Fatal(err)
	}
	node, err := OpenFileKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	reloads := 0
	var mu sync.Mutex
	node.OnReload = func(ids []string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("reload: %v", err)
		}
		reloads++
	}
	old := node.PrimaryID()
	sealedOld, err := node.Seal([]byte("billkey-1"), PurposeBillingKey, 7, "cust")
	if err != nil {
		t.Fatal(err)
	}
	// Another process rotates and re-wraps.
	newID, err := RotateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rewrapped, err := Owned{other}.Rewrap(sealedOld, PurposeBillingKey, 7, "cust")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyID(rewrapped); id != newID {
		t.Fatalf("re-wrapped under %s, want %s", id, newID)
	}
	// Many concurrent opens on the node: all succeed, one re-read.
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pt, err := node.Open(rewrapped, PurposeBillingKey, 7, "cust")
			if err != nil || string(pt) != "billkey-1" {
				t.Errorf("open after rotation: %q %v", pt, err)
			}
		}()
	}
	wg.Wait()
	if reloads != 1 {
		t.Fatalf("%d re-reads, want 1", reloads)
	}
	if node.PrimaryID() != newID || old == newID {
		t.Fatalf("primary %s, want the new %s", node.PrimaryID(), newID)
	}
	// Old blobs still open (old keys stay in the file).
	if _, err := node.Open(sealedOld, PurposeBillingKey, 7, "cust"); err != nil {
		t.Fatal(err)
	}
	// A blob naming a key nobody has: re-read at most once per interval.
	now := time.Unix(1_800_000_000, 0)
	node.Now = func() time.Time { return now }
	stranger, _ := Owned{mustParse(t, spec("zz", 9))}.Seal([]byte("x"), PurposeBillingKey, 7, "cust")
	for i := 0; i < 5; i++ {
		if _, err := node.Open(stranger, PurposeBillingKey, 7, "cust"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	if reloads != 2 {
		t.Fatalf("%d re-reads after 5 opens with an unknown id, want 2 (rate-limited)", reloads)
	}
	now = now.Add(MinReloadInterval)
	_, _ = node.Open(stranger, PurposeBillingKey, 7, "cust")
	if reloads != 3 {
		t.Fatalf("%d re-reads after the interval, want 3", reloads)
	}
}

// TestFileKeysRefuseMACKeyChange: a key file whose MAC key changed is not
// adopted (tokens and API secrets hash under it).
func TestFileKeysRefuseMACKeyChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if _, err := GenerateFile(path); err != nil {
		t.Fatal(err)
	}
	node, err := OpenFileKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	var gotErr error
	node.OnReload = func(_ []string, err error) { gotErr = err }
	other := filepath.Join(dir, "other.json")
	if _, err := GenerateFile(other); err != nil {
		t.Fatal(err)
	}
	foreign, _ := OpenFileKeys(other)
	blob, _ := foreign.Seal([]byte("x"), PurposeBillingKey, 1, "c")
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Open(blob, PurposeBillingKey, 1, "c"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("open: %v", err)
	}
	if !errors.Is(gotErr, ErrConfig) {
		t.Fatalf("reload error %v, want ErrConfig", gotErr)
	}
}

// TestEnvKeyRotationOrder documents the order for keys from BILLKEY_KEK:
// first every node gets the new key as a second entry ("old,new"), then
// nodes switch to "new,old" one by one. During the switch a node still on
// "old,new" opens what a switched node sealed, and vice versa; a node that
// was never given the new key cannot, which is why it must come first.
func TestEnvKeyRotationOrder(t *testing.T) {
	step1 := mustParse(t, spec("old", 1, "new", 2)) // every node first
	step2 := mustParse(t, spec("new", 2, "old", 1)) // then, node by node
	never := mustParse(t, spec("old", 1))           // a node skipped in step 1
	ad := AD{Purpose: PurposeBillingKey, MerchantID: 1, Subject: "c"}
	fromSwitched := mustSeal(t, step2, []byte("k"), ad)
	fromPending := mustSeal(t, step1, []byte("k"), ad)
	if _, err := step1.Open(fromSwitched, ad); err != nil {
		t.Fatalf("a node on old,new cannot open a blob sealed by one on new,old: %v", err)
	}
	if _, err := step2.Open(fromPending, ad); err != nil {
		t.Fatalf("a node on new,old cannot open a blob sealed by one on old,new: %v", err)
	}
	if _, err := never.Open(fromSwitched, ad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("skipping step 1: %v, want ErrUnknownKey", err)
	}
}
