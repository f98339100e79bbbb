package labcli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"

	"tinylab/device"
	"tinylab/lab/attach"
)

// Attach is `tinylab attach`: follow devices running elsewhere and print
// what they report; commands come on standard input.
func Attach(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("attach", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tinylab attach [--rd coap://HOST:PORT] [--psk IDENTITY=KEY] [--record FILE] [--probe DURATION] [URI ...]")
		fmt.Fprintln(stderr, "Follows devices in other processes or on other machines (given by address, or found in an RD),")
		fmt.Fprintln(stderr, "coap:// ones over plain CoAP (read-only on a secure device), coaps:// ones over DTLS as --psk's party.")
		fmt.Fprintln(stderr, "in real time, with Observe on /containers and /suit/status, and prints what they report.")
		fmt.Fprintln(stderr, "Commands on standard input: start|stop|restart|delete NAME UID, update NAME MANIFEST-URI, get NAME PATH, list.")
		fs.PrintDefaults()
	}
	rd := fs.String("rd", "", "a CoRE Resource Directory to find devices in (looked at again every 5 s)")
	record := fs.String("record", "", "write what the devices report to FILE (JSON Lines, for tinylab replay)")
	probe := fs.Duration("probe", 2*time.Second, "how often each device is checked (and polled when it does not accept Observe)")
	psk := fs.String("psk", "", "DTLS credentials for coaps:// devices: IDENTITY=KEY (KEY as coap-client-openssl -k takes it, or 0x and hex)")
	uris, err := Parse(fs, args)
	if err != nil {
		return ParseExit(err)
	}
	if *rd == "" && len(uris) == 0 {
		fs.Usage()
		return 2
	}
	if *probe < 100*time.Millisecond {
		fmt.Fprintln(stderr, "tinylab attach: --probe must be at least 100ms")
		return 2
	}
	out := &syncWriter{w: stdout}
	var rec *json.Encoder
	var recMu sync.Mutex
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			fmt.Fprintln(stderr, "tinylab attach:", err)
			return 2
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		defer w.Flush()
		rec = json.NewEncoder(w)
	}
	udp, err := attach.NewUDP("0.0.0.0:0")
	if err != nil {
		fmt.Fprintln(stderr, "tinylab attach:", err)
		return 1
	}
	defer udp.Close()
	dialer := attach.Schemes{"coap": udp}
	if *psk != "" {
		sec, err := attach.ParsePSK(*psk)
		if err != nil {
			fmt.Fprintln(stderr, "tinylab attach: --psk:", err)
			return 2
		}
		defer sec.Close()
		dialer["coaps"] = sec
	}
	a := attach.New(attach.Options{Dialer: dialer, Probe: *probe, OnEvent: func(e device.Event) {
		out.println(e.String())
		if rec != nil {
			recMu.Lock()
			_ = rec.Encode(e)
			recMu.Unlock()
		}
	}})
	defer a.Close()
	for _, u := range uris {
		if err := a.Attach("", u); err != nil {
			fmt.Fprintln(stderr, "tinylab attach:", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *rd != "" {
		go followRD(ctx, a, *rd, out)
	}
	go commands(ctx, a, stdin, out)
	<-ctx.Done()
	return 0
}

// followRD attaches what the RD lists, now and every 5 s; each problem is
// said once.
func followRD(ctx context.Context, a *attach.Attacher, rd string, out *syncWriter) {
	said := map[string]bool{}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, errs := a.AttachRD(c, rd)
		cancel()
		for _, err := range errs {
			if !said[err.Error()] {
				said[err.Error()] = true
				out.println("attach: " + err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func commands(ctx context.Context, a *attach.Attacher, in io.Reader, out *syncWriter) {
	if in == nil {
		return
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var err error
		switch {
		case f[0] == "list" && len(f) == 1:
			for _, r := range a.Devices() {
				out.println(describe(r))
			}
		case len(f) == 3 && (f[0] == "start" || f[0] == "stop" || f[0] == "restart" || f[0] == "delete"):
			err = a.Command(ctx, f[1], f[0], f[2])
		case len(f) == 3 && f[0] == "update":
			err = a.Update(ctx, f[1], f[2])
		case len(f) == 3 && f[0] == "get":
			r, gerr := a.Get(ctx, f[1], f[2], message.TextPlain)
			if err = gerr; err == nil {
				out.println(fmt.Sprintf("%d.%02d %s", r.Code>>5, r.Code&31, r.Body))
			}
		default:
			err = fmt.Errorf("unknown command %q: start|stop|restart|delete NAME UID, update NAME URI, get NAME PATH, list", sc.Text())
		}
		if err != nil {
			out.println("attach: " + err.Error())
		} else if f[0] != "list" && f[0] != "get" {
			out.println("attach: " + sc.Text() + ": done")
		}
	}
}

func describe(r attach.Remote) string {
	state := "live since " + r.Since.Format(time.TimeOnly)
	if !r.Live {
		state = "unreachable since " + r.Since.Format(time.TimeOnly) + " (" + r.Err + ")"
	}
	var cs []string
	for _, c := range r.Containers {
		cs = append(cs, c.UID+"="+c.State)
	}
	return fmt.Sprintf("%s %s %s %s [%s] suit %s", r.Name, r.URI, r.Board, state, strings.Join(cs, " "), r.Suit.Last.Result)
}
