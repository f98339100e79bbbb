package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as tinylab in the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tinylab": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: the CLI as a
// user types it, and libcoap's coap-client driving a device.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for _, name := range []string{"DEVPORT", "REPOPORT", "RDPORT", "GWPORT", "DTLSPORT", "SRVPORT"} {
				p, err := freeUDPPort()
				if err != nil {
					return err
				}
				env.Setenv(name, strconv.Itoa(p))
			}
			// the headers C containers are written against
			dir, err := filepath.Abs(filepath.Join("scenarios", "builtin", "containers"))
			if err != nil {
				return err
			}
			env.Setenv("CONTAINERS", dir)
			// the IETF drafts' SUIT examples, for the scripts that use them
			if dir, err := filepath.Abs("../shared/testdata/suit"); err == nil {
				env.Setenv("SUITVECTORS", dir)
			}
			return nil
		},
		// [suitvectors]: the IETF drafts' SUIT examples are at $SUITVECTORS
		Condition: func(cond string) (bool, error) {
			if cond != "suitvectors" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := os.Stat("../shared/testdata/suit/index.json")
			return err == nil, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"coapwait": coapWait,
			"waitfile": waitFile,
			"portfree": portFree,
		},
	})
}

// freeUDPPort asks the system for a free loopback UDP port.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// portFree waits until a loopback UDP port is free again (a killed
// server has closed its socket), for at most 15 seconds: kill only sends the
// signal, and a server restarted on the port too early fails to bind while
// clients still reach the old one.
//
//	portfree PORT
func portFree(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: portfree PORT")
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.ListenPacket("udp", "127.0.0.1:"+args[0]); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("UDP port %s is still in use after 15 s", args[0])
}

// coapWait polls a CoAP resource with libcoap's coap-client until its
// answer contains the text (with -c N: exactly N times), for at most 15
// seconds:
//
//	coapwait [-A FORMAT] [-c N] URI TEXT
func coapWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("coapwait does not support !; use -c 0")
	}
	var accept []string
	count := -1
	for len(args) > 2 && (args[0] == "-A" || args[0] == "-c") {
		if args[0] == "-A" {
			accept = []string{"-A", args[1]}
		} else {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 0 {
				ts.Fatalf("coapwait: -c needs a count")
			}
			count = n
		}
		args = args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: coapwait [-A FORMAT] [-c N] URI TEXT")
	}
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		out, err := exec.CommandContext(ctx, "coap-client-notls", append(append([]string{"-m", "get", "-B", "2"}, accept...), args[0])...).CombinedOutput()
		cancel()
		last = string(out)
		n := strings.Count(last, args[1])
		if (count < 0 && n > 0) || (count >= 0 && err == nil && n == count) {
			fmt.Fprintf(ts.Stdout(), "%s", out)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if count >= 0 {
		ts.Fatalf("%s never answered %q exactly %d times; last answer:\n%s", args[0], args[1], count, last)
	}
	ts.Fatalf("%s never answered %q; last answer:\n%s", args[0], args[1], last)
}

// waitFile waits until a file (a background command's redirected output)
// contains the text, for at most 30 seconds:
//
//	waitfile FILE TEXT
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile FILE TEXT")
	}
	deadline := time.Now().Add(30 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		last, _ = os.ReadFile(ts.MkAbs(args[0]))
		if strings.Contains(string(last), args[1]) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Fatalf("%s never said %q; it holds:\n%s", args[0], args[1], last)
}
