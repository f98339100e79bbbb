package lab

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestArmedAttackOutlivesARefusedUpdate: tamper next stays armed through an
// update command the lab refuses (a typo in the container), shows in the
// snapshot, and is spent by the next update the device accepts, which then
// fails as the attack says.
func TestArmedAttackOutlivesARefusedUpdate(t *testing.T) {
	l := testLab(t, 7)
	if _, err := l.Exec("update bench-1 coach"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 3*time.Second)
	if _, err := l.Exec("tamper next digest-mismatch"); err != nil {
		t.Fatal(err)
	}
	_, err := l.Exec("update bench-1 coachh")
	if err == nil || !strings.Contains(err.Error(), "digest-mismatch stays armed") {
		t.Fatalf("the refused update says %v; want it to say the attack stays armed", err)
	}
	if a := l.Snapshot("").Armed; a != DigestMismatch {
		t.Fatalf("after a refused update the lab has %s armed, want digest-mismatch", a)
	}
	out, err := l.Exec("update bench-1 coach")
	if err != nil || !strings.Contains(out, "digest-mismatch") {
		t.Fatalf("the next update: %q, %v; want it to carry digest-mismatch", out, err)
	}
	run(t, l, 10*time.Second)
	snap := l.Snapshot("bench-1")
	if got := snap.Detail.Suit.Last.Result; got != "SUIT_ERR_DIGEST_MISMATCH" {
		t.Fatalf("the update that carried the attack ended %s", got)
	}
	if snap.Armed != NoAttack {
		t.Fatalf("the attack is still armed after an update carried it: %s", snap.Armed)
	}
	// an explicit attack does not spend the armed one
	if _, err := l.Exec("tamper next wrong-key"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Exec("update bench-1 coach unsigned"); err != nil {
		t.Fatal(err)
	}
	if a := l.Armed(); a != WrongKey {
		t.Fatalf("an update with its own attack spent the armed one: %s", a)
	}
}

// TestBadValuesAreRefused: NaN, infinities and values beyond a sensor's
// declared range are refused with the bounds named; drop takes a
// percentage with or without its sign and answers in percent.
func TestBadValuesAreRefused(t *testing.T) {
	l := testLab(t, 1)
	for line, want := range map[string]string{
		"drop bench-1 NaN":       "not a percentage",
		"drop bench-1 -5":        "not a percentage",
		"drop bench-1 101%":      "not a percentage",
		"drop bench-1 Inf":       "not a percentage",
		"sensor bench-1 hr NaN":  "not a number",
		"sensor bench-1 hr +Inf": "not a number",
		"sensor bench-1 hr 250":  "60 to 180",
		"sensor bench-1 hr 59.9": "60 to 180",
	} {
		_, err := l.Exec(line)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBadValue) {
			t.Errorf("%q: %v, want an ErrBadValue saying %q", line, err, want)
		}
	}
	if err := l.Drop("bench-1", nanValue()); err == nil {
		t.Error("Drop(NaN) was accepted")
	}
	for line, want := range map[string]string{
		"drop bench-1 30%":     "bench-1 now loses 30% of its exchanges",
		"drop bench-1 30":      "bench-1 now loses 30% of its exchanges",
		"drop bench-1 0.5":     "bench-1 now loses 0.5% of its exchanges",
		"drop bench-1 0":       "bench-1 now loses 0% of its exchanges",
		"sensor bench-1 hr 60": "hr on bench-1 set to 60",
	} {
		out, err := l.Exec(line)
		if err != nil || out != want {
			t.Errorf("%q: %q, %v; want %q", line, out, err, want)
		}
	}
	if lk := l.nodes[0].Dev.Link(); lk.Loss != 0 {
		t.Errorf("drop 0 left a loss of %v", lk.Loss)
	}
	out, _ := l.Exec("help")
	if !strings.Contains(out, "30 and 30% are the same") {
		t.Errorf("the help does not say how drop reads its number:\n%s", out)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}
