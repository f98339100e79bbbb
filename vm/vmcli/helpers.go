package vmcli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"tinylab/vm"
)

// Helper numbers of the standalone set; the device registers the same ones.
const (
	helperPrintf = 0x01
	helperMemcpy = 0x02
	helperNowMs  = 0x20
)

// helperNames names every helper number the device knows, for the
// disassembler's comments.
var helperNames = map[uint32]string{
	0x01: "printf", 0x02: "memcpy",
	0x10: "store_local", 0x11: "store_global", 0x12: "fetch_local", 0x13: "fetch_global",
	0x20: "now_ms",
	0x30: "saul_reg_find_nth", 0x31: "saul_reg_find_type", 0x32: "saul_reg_read",
	0x60: "ztimer_now", 0x61: "ztimer_periodic_wakeup",
	0x71: "heartbeat", 0x72: "open", 0x73: "close", 0x74: "read", 0x75: "write",
}

// maxFormat bounds printf's format and %s strings; maxWidth its field widths.
const (
	maxFormat = 256
	maxWidth  = 64
)

func tooWide(spec string) bool {
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r < '0' || r > '9' }) {
		if n, err := strconv.Atoi(part); err != nil || n > maxWidth {
			return true
		}
	}
	return false
}

// standaloneHelpers is what `tinylab vm run` offers: printf to out, memcpy,
// and now_ms returning a fixed time.
func standaloneHelpers(out io.Writer, nowMs uint64) vm.HelperMap {
	return vm.HelperMap{
		helperPrintf: func(args *[5]uint64, mem *vm.Memory) (uint64, error) {
			s, err := cprintf(args[0], args[1:], mem)
			if err != nil {
				return 0, err
			}
			io.WriteString(out, s)
			return uint64(len(s)), nil
		},
		helperMemcpy: func(args *[5]uint64, mem *vm.Memory) (uint64, error) {
			if args[2] > uint64(vm.MaxRegionSize) {
				return 0, fmt.Errorf("memcpy of %d bytes", args[2])
			}
			n := int(args[2])
			src, err := mem.Read(args[1], n)
			if err != nil {
				return 0, err
			}
			dst, err := mem.Write(args[0], n)
			if err != nil {
				return 0, err
			}
			copy(dst, src)
			return args[0], nil
		},
		helperNowMs: func(*[5]uint64, *vm.Memory) (uint64, error) { return nowMs, nil },
	}
}

// cprintf formats like C's printf for the conversions femto-container
// programs use (%d %i %u %x %X %o %c %s %p %%, with flags, width, precision
// and the h/l/ll/z length modifiers), taking up to four arguments.
func cprintf(fmtAddr uint64, args []uint64, mem *vm.Memory) (string, error) {
	f, err := mem.ReadString(fmtAddr, maxFormat)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	next := 0
	arg := func() (uint64, error) {
		if next >= len(args) {
			return 0, fmt.Errorf("printf %q: more conversions than the %d arguments a helper gets", f, len(args))
		}
		next++
		return args[next-1], nil
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-+ #0", f[j]) >= 0 {
			j++
		}
		for j < len(f) && (f[j] >= '0' && f[j] <= '9' || f[j] == '.') {
			j++
		}
		spec := f[i+1 : j]
		if tooWide(spec) {
			return "", fmt.Errorf("printf %q: width or precision above %d", f, maxWidth)
		}
		long := false
		for j < len(f) && strings.IndexByte("hlzjt", f[j]) >= 0 {
			long = long || f[j] == 'l' || f[j] == 'z' || f[j] == 'j' || f[j] == 't'
			j++
		}
		if j >= len(f) {
			b.WriteString(f[i:])
			break
		}
		verb := f[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		v, err := arg()
		if err != nil {
			return "", err
		}
		switch verb {
		case 'd', 'i':
			n := int64(v)
			if !long {
				n = int64(int32(v))
			}
			fmt.Fprintf(&b, "%"+spec+"d", n)
		case 'u':
			if !long {
				v = uint64(uint32(v))
			}
			fmt.Fprintf(&b, "%"+spec+"d", v)
		case 'x', 'X', 'o':
			if !long {
				v = uint64(uint32(v))
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), v)
		case 'c':
			fmt.Fprintf(&b, "%"+spec+"c", rune(byte(v)))
		case 'p':
			b.WriteString("0x" + strconv.FormatUint(v, 16))
		case 's':
			s, err := mem.ReadString(v, maxFormat)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%"+spec+"s", s)
		default:
			b.WriteString(f[strings.LastIndexByte(f[:j], '%') : j+1])
		}
	}
	return b.String(), nil
}
