package labcli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"tinylab/lab"
	"tinylab/lab/attach"
	"tinylab/lab/sim"
)

// TestAttachCommands drives the attach command line: list, a GET over
// CoAP, a command the device refuses, and a line that is no command.
func TestAttachCommands(t *testing.T) {
	l, err := lab.New(lab.Options{Mode: sim.Paced, Insecure: true}) // attach manages over plain CoAP: the demo mode
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n, err := l.AddDevice(lab.DeviceSpec{ID: "far", Board: "native"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.World().Run(ctx) }()
	defer func() { cancel(); <-done }()
	udp, err := attach.NewUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	a := attach.New(attach.Options{Dialer: udp, Probe: 100 * time.Millisecond})
	defer a.Close()
	if err := a.Attach("far", n.URI()); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(3 * time.Second); !a.Devices()[0].Live; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("never live")
		}
	}
	var buf bytes.Buffer
	commands(context.Background(), a, strings.NewReader("list\nget far /riot/board\nstop far nothing\nfly far\n"), &syncWriter{w: &buf})
	out := buf.String()
	for _, want := range []string{
		"far " + n.URI() + " native live since ",
		"2.05 native",
		"attach: coap: ",
		"no container nothing",
		`attach: unknown command "fly far"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
