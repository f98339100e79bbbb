package lab

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/firewall"
	"tinylab/lab/rollout"
	"tinylab/lab/sim"
)

// silentSrc loops without heartbeats: the watchdog fails it.
const silentSrc = `
loop:
  mov %r0, 0
  exit
`

// rolloutLab is n boards running app v1 (heartbeats), with app-v2 (silent)
// and app-v3 (heartbeats) defined.
func rolloutLab(t *testing.T, n int) (*Lab, *[]device.Event) {
	return rolloutLabWith(t, n, 0)
}

func rolloutLabWith(t *testing.T, n, perSocket int) (*Lab, *[]device.Event) {
	t.Helper()
	l, err := New(Options{Seed: 1, Mode: sim.Fast, BlockSize: 512, BoardsPerSocket: perSocket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	must(t, firstErr(l.AddParty("owner", Owner)))
	must(t, firstErr(l.AddParty("ops", Tenant)))
	grants := firewall.MaskOf(firewall.CallHeartbeat)
	must(t, l.Define(ContainerDef{Name: "app", Tenant: "ops", Code: code(t, beatSrc), Grants: grants}))
	must(t, l.Define(ContainerDef{Name: "app-v2", UID: "app", Tenant: "ops", Code: code(t, silentSrc), Grants: grants}))
	var events []device.Event
	l.Bus().Sink(func(e device.Event) {
		switch e.Data.(type) {
		case rollout.Step, rollout.DeviceOutcome:
			events = append(events, e)
		}
	})
	for i := range n {
		id := fmt.Sprintf("box-%d", i+1)
		if _, err := l.AddDevice(DeviceSpec{ID: id, Board: "nrf52dk"}); err != nil {
			t.Fatal(err)
		}
		must(t, l.Load(id, "app"))
		must(t, l.Start(id, "app"))
	}
	return l, &events
}

func steps(events []device.Event) []rollout.StepKind {
	var out []rollout.StepKind
	for _, e := range events {
		if s, ok := e.Data.(rollout.Step); ok {
			out = append(out, s.What)
		}
	}
	return out
}

func TestRolloutHaltsAndRollsBack(t *testing.T) {
	for _, per := range []int{0, 8} {
		t.Run(fmt.Sprintf("boards-per-socket=%d", per), func(t *testing.T) { testRolloutHalts(t, per) })
	}
}

func testRolloutHalts(t *testing.T, perSocket int) {
	l, events := rolloutLabWith(t, 20, perSocket)
	ctx := context.Background()
	out, err := l.Exec("rollout app v2 --to box-* --canary 10% --waves 50%,100% --halt-on 20% --pause 10s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "rollout app-v2 started") {
		t.Fatalf("rollout says %q", out)
	}
	must(t, l.Advance(ctx, 5*time.Second))
	sameAsReplay(t, l, *events)
	v, _ := l.RolloutView()
	if c := v.Waves[0].Counts; c[rollout.Installed] != 2 || v.State != rollout.Observing {
		t.Fatalf("canary after 5 s: %v, %s", c, v.State)
	}
	// The silent v2 trips the watchdog in the canary's window: 2 of 2 fail.
	must(t, l.Advance(ctx, 10*time.Second))
	sameAsReplay(t, l, *events)
	v, _ = l.RolloutView()
	if v.State != rollout.Halted || v.Waves[0].Counts[rollout.Failed] != 2 || v.Waves[0].Reasons != "watchdog ×2" {
		t.Fatalf("after the canary's window: %s\n%s", v.State, v)
	}
	if v.Waves[1].Started {
		t.Fatal("the second wave started after a halt")
	}
	if _, err := l.Exec("rollout resume nope"); err == nil {
		t.Fatal("a rollout that does not exist resumed")
	}
	if _, err := l.Exec("rollout rollback"); err != nil {
		t.Fatal(err)
	}
	must(t, l.Advance(ctx, 15*time.Second))
	sameAsReplay(t, l, *events)
	v, _ = l.RolloutView()
	rb := v.Waves[len(v.Waves)-1]
	if v.State != rollout.RolledBack || rb.Counts[rollout.Installed] != 2 {
		t.Fatalf("after the rollback: %s\n%s", v.State, v)
	}
	for _, id := range []string{"box-1", "box-2"} {
		n, _ := l.Node(id)
		var st device.State
		var seq uint64
		l.World().Do(func() {
			c, _ := n.Dev.Container("app")
			st, seq = c.State, c.Info().Seq
		})
		if st != device.Running || seq != 2 {
			t.Errorf("%s: app is %s at seq %d, want RUNNING at seq 2 (v1 again, above v2's 1)", id, st, seq)
		}
	}
	want := []rollout.StepKind{rollout.StepStarted, rollout.StepWave, rollout.StepObserving, rollout.StepHalted,
		rollout.StepRollback, rollout.StepWave, rollout.StepObserving, rollout.StepRolledBack}
	if got := steps(*events); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
}

func TestRolloutOfflineDevice(t *testing.T) {
	l, events := rolloutLab(t, 4)
	ctx := context.Background()
	must(t, l.PowerCut("box-2"))
	must(t, l.Define(ContainerDef{Name: "app-v3", UID: "app", Tenant: "ops", Code: code(t, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	if _, err := l.Exec("rollout app v3 --to box-* --pause 5s"); err != nil {
		t.Fatal(err)
	}
	must(t, l.Advance(ctx, 3*time.Second))
	sameAsReplay(t, l, *events)
	v, _ := l.RolloutView()
	if c := v.Waves[0].Counts; c[rollout.Installed] != 3 || c[rollout.Offline] != 1 {
		t.Fatalf("with box-2 off: %v", c)
	}
	must(t, l.PowerOn("box-2"))
	sameAsReplay(t, l, *events)
	must(t, l.Advance(ctx, 10*time.Second))
	sameAsReplay(t, l, *events)
	v, _ = l.RolloutView()
	if c := v.Waves[0].Counts; c[rollout.Installed] != 4 || v.State != rollout.Completed {
		t.Fatalf("after box-2 boots: %v %s", c, v.State)
	}
	if _, err := l.Exec("rollout retry"); !errors.Is(err, rollout.ErrState) {
		t.Fatalf("retry with nothing failed: %v", err)
	}
}

func TestParseRollout(t *testing.T) {
	defs := func(n string) bool { return n == "delivery" || n == "delivery-v2" }
	o, err := ParseRollout(strings.Fields("delivery v2 --to box-* --canary 1% --waves 10%,50%,100% --halt-on 5% --pause 30s"), defs)
	if err != nil {
		t.Fatal(err)
	}
	if o.Def != "delivery-v2" || o.To != "box-*" || o.Canary != 100 || fmt.Sprint(o.Waves) != "[10% 50% 100%]" || o.HaltOn != 500 || o.Pause != 30*time.Second {
		t.Fatalf("%+v", o)
	}
	for _, bad := range []string{"", "delivery", "delivery v3 --to x", "delivery --to x --waves 10%,y", "delivery --to x --bogus 1", "delivery --to", "delivery --to x --pause soon"} {
		if _, err := ParseRollout(strings.Fields(bad), defs); !errors.Is(err, rollout.ErrSpec) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestSharedSockets: boards on one socket are told apart by Uri-Host, each
// answers for itself, and a request for a board the socket does not serve
// is refused.
func TestSharedSockets(t *testing.T) {
	l, _ := rolloutLabWith(t, 7, 3)
	socks := map[string]bool{}
	for _, n := range l.Nodes() {
		socks[n.Sock.URI()] = true
		if !strings.HasPrefix(n.URI(), "coap://"+n.ID()+".localhost:") {
			t.Errorf("%s: URI %s", n.ID(), n.URI())
		}
		resp, err := l.CoAP(n.ID(), codes.GET, "/containers", nil, int(message.AppJSON))
		if err != nil || resp.Code != codes.Content || !strings.Contains(string(resp.Body), "app") {
			t.Fatalf("%s: %v %v", n.ID(), resp, err)
		}
	}
	if len(socks) != 3 {
		t.Fatalf("7 boards, 3 per socket, on %d sockets", len(socks))
	}
	n, _ := l.Node("box-1")
	tgt, err := coapnet.ParseURI(n.Sock.URI() + "/riot/board")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for host, want := range map[string]codes.Code{"box-9.localhost": codes.NotFound, "BOX-2.localhost": codes.Content} {
		resp, err := l.client.Request(ctx, tgt, codes.GET, message.TextPlain, nil, message.Option{ID: message.URIHost, Value: []byte(host)})
		if err != nil || resp.Code != want {
			t.Errorf("Uri-Host %s: %v %v, want %v", host, resp, err, want)
		}
	}
	if resp, err := l.client.Request(ctx, tgt, codes.GET, message.TextPlain, nil); err != nil || resp.Code != codes.BadRequest {
		t.Errorf("no Uri-Host: %v %v", resp, err)
	}
}

func TestCompleteRollout(t *testing.T) {
	l, _ := rolloutLab(t, 2)
	for line, want := range map[string]string{
		"rollout ":              "abort app app-v2 resume retry rollback status",
		"rollout app ":          "--canary --from --halt-on --pause --to --waves v2",
		"rollout app v2 --to ":  "box-*",
		"rollout app --from ap": "app app-v2",
	} {
		if got := strings.Join(l.Complete(line), " "); got != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}

// sameAsReplay: the campaign folded back from its transcript events is
// the live campaign: states, counts, reasons and the map.
func sameAsReplay(t *testing.T, l *Lab, events []device.Event) {
	t.Helper()
	var f RolloutFold
	for _, e := range events {
		f.Apply(e.Data)
	}
	var ids []string
	for _, n := range l.Nodes() {
		ids = append(ids, n.ID())
	}
	got, ok := f.View(ids)
	want, _ := l.RolloutView()
	if !ok {
		t.Fatal("no campaign in the replay")
	}
	want.Container = "" // the transcript names the campaign and its release
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("replay:\n%+v\nlive:\n%+v", got, want)
	}
}

// TestSharedSocketWithLibcoap: a peer we did not write reaches one board of
// a shared socket by naming it in Uri-Host, as the package doc says
// (coap-client -O 3,ID.localhost).
func TestSharedSocketWithLibcoap(t *testing.T) {
	bin, err := exec.LookPath("coap-client-notls")
	if err != nil {
		t.Skip("coap-client-notls (libcoap3-bin) is not installed")
	}
	l, _ := rolloutLabWith(t, 3, 3)
	n, _ := l.Node("box-2")
	addr := n.Sock.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-m", "get", "-B", "5", "-O", "3,box-2.localhost",
		fmt.Sprintf("coap://%s/containers", addr)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "app") {
		t.Fatalf("coap-client: %v\n%s", err, out)
	}
	out, _ = exec.CommandContext(ctx, bin, "-m", "get", "-B", "5", "-O", "3,box-9.localhost",
		fmt.Sprintf("coap://%s/riot/board", addr)).CombinedOutput()
	if !strings.Contains(string(out), "no board box-9.localhost") {
		t.Fatalf("an unknown board answered:\n%s", out)
	}
}
