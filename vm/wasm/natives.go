package wasm

import "strings"

// ValType is a WebAssembly value type as the binary encodes it.
type ValType byte

// The value types of WebAssembly 1.0.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
	F32 ValType = 0x7d
	F64 ValType = 0x7c
)

func (v ValType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return "type(0x" + string("0123456789abcdef"[v>>4]) + string("0123456789abcdef"[v&15]) + ")"
}

// Native is one function a module may import from module "env".
type Native struct {
	Name    string
	Params  []ValType
	Results []ValType
	WAMR    string // the signature as WAMR's NativeSymbol writes it, e.g. "(i*~)i"
	Doc     string // what it does, for help texts
}

// Signature is the native's wasm signature, e.g. "(i32,i32,i32) -> i32".
func (n Native) Signature() string { return signature(n.Params, n.Results) }

func (n Native) String() string { return n.Name + n.Signature() }

func signature(params, results []ValType) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range params {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	b.WriteString(") -> ")
	switch len(results) {
	case 0:
		b.WriteString("()")
	case 1:
		b.WriteString(results[0].String())
	default:
		b.WriteByte('(')
		for i, r := range results {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(r.String())
		}
		b.WriteByte(')')
	}
	return b.String()
}

var (
	none  = []ValType{}
	one   = []ValType{I32}
	two   = []ValType{I32, I32}
	three = []ValType{I32, I32, I32}
)

// Natives lists every import of module "env" the runtime accepts: upstream
// TinyContainer's five (sys/tinycontainer/runtime/wamr), heartbeat (which
// upstream declares but never registers), and the femto-container helper
// groups under the names the firewall gives them. Pointers are i32 offsets
// into linear memory; the host checks each against it through Memory.
var Natives = []Native{
	{"logger", one, none, "($)", "print a NUL-terminated string"},
	{"open", one, one, "(i)i", "open one of the container's endpoints, give an fd or -1"},
	{"read", three, one, "(i*~)i", "read up to len bytes from an fd into buf, give the count or -1"},
	{"write", three, one, "(i*~)i", "write len bytes of buf to an fd, give the count or -1"},
	{"close", one, one, "(i)i", "close an fd"},
	{"heartbeat", none, one, "()i", "tell the agent the container is healthy"},
	{"store_local", two, one, "(ii)i", "store a value under a key, the container's own"},
	{"store_global", two, one, "(ii)i", "store a value under a key, the device's"},
	{"fetch_local", two, one, "(i*)i", "fetch a container value into *ptr"},
	{"fetch_global", two, one, "(i*)i", "fetch a device value into *ptr"},
	{"now_ms", none, one, "()i", "virtual time in ms"},
	{"ztimer_now", none, one, "()i", "virtual time in µs"},
	{"ztimer_periodic_wakeup", two, one, "(*i)i", "advance *last by period"},
	{"saul_reg_find_nth", one, one, "(i)i", "SAUL handle by index"},
	{"saul_reg_find_type", one, one, "(i)i", "SAUL handle by type"},
	{"saul_reg_read", two, one, "(i*)i", "read a SAUL device into a phydat at ptr"},
	{"memcpy", three, one, "(**i)i", "copy n bytes inside linear memory, give dst"},
}

// nativeIndex finds a native by name.
func nativeIndex(name string) int {
	for i, n := range Natives {
		if n.Name == name {
			return i
		}
	}
	return -1
}

func sameTypes(a, b []ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
