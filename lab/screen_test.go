package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/firewall"
)

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func target(t *testing.T, uri string) coapnet.Target {
	tgt, err := coapnet.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

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
	for _, c := range []struct{ line, want string }{
		{"drop bench-1 30%", "bench-1 now loses 30% of its exchanges"},
		{"drop bench-1 30", "bench-1 now loses 30% of its exchanges"},
		{"drop bench-1 0.5", "bench-1 now loses 0.5% of its exchanges"},
		{"sensor bench-1 hr 60", "hr on bench-1 set to 60"},
		{"drop bench-1 0", "bench-1 now loses 0% of its exchanges"},
	} {
		out, err := l.Exec(c.line)
		if err != nil || out != c.want {
			t.Errorf("%q: %q, %v; want %q", c.line, out, err, c.want)
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

// TestCoAPFollowsTheLink: the lab's own requests cross the same modelled
// link as the device's fetches: at 100 % loss coap get gets no answer, as a
// SUIT update on that link fails; a board without power answers nobody.
func TestCoAPFollowsTheLink(t *testing.T) {
	l := testLab(t, 5)
	if _, err := l.Exec("coap get bench-1 /riot/board"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Exec("drop bench-1 100%"); err != nil {
		t.Fatal(err)
	}
	_, err := l.Exec("coap get bench-1 /riot/board")
	var lost *LostError
	if !errors.As(err, &lost) || !strings.Contains(err.Error(), "100%") {
		t.Fatalf("coap get at 100%% loss: %v; want a LostError naming the loss", err)
	}
	// at 50 % some requests pass and some are lost, the same ones for the same seed
	pattern := func() string {
		l := testLab(t, 5)
		must(t, l.Drop("bench-1", 0.5))
		var b strings.Builder
		for range 40 {
			if _, err := l.Exec("coap get bench-1 /riot/board"); err != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Fatalf("the same seed lost different requests:\n%s\n%s", a, b)
	}
	if _, err := l.Exec("drop bench-1 0"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Exec("power-cut bench-1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := l.Exec("coap get bench-1 /riot/board"); !errors.Is(err, device.ErrPoweredOff) {
		t.Fatalf("coap get on a board without power: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("the lab waited for a board that has no power")
	}
	// nor does its socket answer anyone else
	n, _ := l.Node("bench-1")
	resp, err := l.client.Request(shortCtx(t), target(t, n.URI()+"/riot/board"), codes.GET, message.TextPlain, nil)
	if err == nil {
		t.Fatalf("a board without power answered %s", resp.Code)
	}
}

// TestHeartbeatsCountAsLoops: a container that beats once a loop shows as
// many heartbeats as loops in /containers, also after an update restarted
// it (both count from its last start).
func TestHeartbeatsCountAsLoops(t *testing.T) {
	l := testLab(t, 2)
	if _, err := l.Exec("update bench-1 coach"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 4*time.Second)
	must(t, l.Define(ContainerDef{Name: "coach-v2", UID: "coach", Tenant: "coach", Code: code(t, beatSrc+"\n"),
		Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	if _, err := l.Exec("update bench-1 coach-v2"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 3500*time.Millisecond)
	out, err := l.Exec("coap get bench-1 /containers text")
	if err != nil {
		t.Fatal(err)
	}
	var loops, beats int
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "coach ") {
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "coach RUNNING "), "loops=%d heartbeats=%d", &loops, &beats); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		}
	}
	if loops == 0 || beats != loops {
		t.Fatalf("after an update /containers says loops=%d heartbeats=%d:\n%s", loops, beats, out)
	}
}

// TestUpdatedContainerRunsAfterTheCommit: the log never says a container
// runs before its update is committed: READY → RUNNING comes after the
// sequence number is stored and the update's result, for a new container
// and for a running one replaced.
func TestUpdatedContainerRunsAfterTheCommit(t *testing.T) {
	l := testLab(t, 4)
	var log []string
	remove := l.Bus().Sink(func(e device.Event) {
		switch d := e.Data.(type) {
		case device.StateChange:
			if d.To == device.Running {
				log = append(log, "running")
			}
		case device.SuitResult:
			log = append(log, "result "+d.Result)
		case device.SuitStep:
			if strings.HasPrefix(d.Message, "Stored sequence number") {
				log = append(log, "stored")
			}
		}
	})
	defer remove()
	must(t, l.Define(ContainerDef{Name: "coach-v2", UID: "coach", Tenant: "coach", Code: code(t, beatSrc+"\n"),
		Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	for _, line := range []string{"update bench-1 coach", "update bench-1 coach-v2"} {
		if _, err := l.Exec(line); err != nil {
			t.Fatal(err)
		}
		run(t, l, 3*time.Second)
	}
	want := "stored, result SUIT_OK, running, stored, result SUIT_OK, running"
	if got := strings.Join(log, ", "); got != want {
		t.Fatalf("events in the order %s\nwant %s", got, want)
	}
}

// TestCoAPReadsLongAnswersWhole: an answer longer than one block arrives
// whole at the console (the first block alone cut JSON mid-string).
func TestCoAPReadsLongAnswersWhole(t *testing.T) {
	l := testLab(t, 6)
	for _, name := range []string{"c1", "c2", "c3", "c4"} {
		must(t, l.Define(ContainerDef{Name: name, Tenant: "coach", Code: code(t, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
		if _, err := l.Exec("update bench-1 " + name); err != nil {
			t.Fatal(err)
		}
		run(t, l, 2*time.Second)
	}
	resp, err := l.CoAP("bench-1", codes.GET, "/suit/status", nil, int(message.AppJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Body) <= 1024 {
		t.Fatalf("the status is %d bytes: too short to need a second block", len(resp.Body))
	}
	out, err := l.Exec("coap get bench-1 /suit/status")
	if err != nil || !strings.Contains(out, "\n  \"seq_no\"") || !strings.HasSuffix(strings.TrimSpace(out), "}") {
		t.Fatalf("the console's answer is not the whole JSON, indented: %v\n%s", err, out)
	}
}
