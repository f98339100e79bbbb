package vm_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"tinylab/vm"
	"tinylab/vm/asm"
)

// The three speed programs of issue 2, each with its plain-Go twin. Every VM
// benchmark reports ns per executed eBPF instruction (ns/insn) and how many
// times slower than the Go twin it is (x-native), measured in the same run.

// (a) a tight loop: 10 million iterations of add, xor and shifts.
const loopIterations = 10_000_000

const loopSrc = `
	mov %r0, 0
	mov %r1, 0
	mov %r2, 10000000
loop:
	add %r0, %r1        # x += i
	mov %r3, %r0
	lsh %r3, 13
	xor %r0, %r3        # x ^= x << 13
	mov %r3, %r0
	rsh %r3, 7
	xor %r0, %r3        # x ^= x >> 7
	add %r1, 1
	jlt %r1, %r2, loop
	exit
`

func loopNative(n uint64) uint64 {
	var x uint64
	for i := uint64(0); i < n; i++ {
		x += i
		x ^= x << 13
		x ^= x >> 7
	}
	return x
}

// (b) Fletcher-16 over the 4 KiB context. The two sums stay below 2^32 for
// 4 KiB (4096·255·4097/2), so the modulo is taken once at the end, as an
// optimised C version would; the Go twin does the same.
const fletcherSrc = `
	mov %r3, 0          # sum1
	mov %r4, 0          # sum2
	mov %r5, %r1
	add %r2, %r1        # end
loop:
	ldxb %r6, [%r5]
	add %r3, %r6
	add %r4, %r3
	add %r5, 1
	jlt %r5, %r2, loop
	mod %r3, 255
	mod %r4, 255
	lsh %r4, 8
	or %r4, %r3
	mov %r0, %r4
	exit
`

func fletcherNative(b []byte) uint64 {
	var s1, s2 uint64
	for _, c := range b {
		s1 += uint64(c)
		s2 += s1
	}
	return (s2%255)<<8 | s1%255
}

// fletcherClassic is the textbook Fletcher-16, for checking the fast one.
func fletcherClassic(b []byte) uint64 {
	var s1, s2 uint64
	for _, c := range b {
		s1 = (s1 + uint64(c)) % 255
		s2 = (s2 + s1) % 255
	}
	return s2<<8 | s1
}

// (c) a branchy state machine: a tokenizer counting words, numbers and
// punctuation over the 4 KiB context.
const tokenSrc = `
	mov %r3, 0          # state: 0 between tokens, 1 in a word, 2 in a number
	mov %r4, 0          # words
	mov %r5, 0          # numbers
	mov %r7, 0          # punctuation
	mov %r6, %r1
	add %r2, %r1
loop:
	jge %r6, %r2, done
	ldxb %r0, [%r6]
	add %r6, 1
	jeq %r0, 32, space
	jeq %r0, 10, space
	jlt %r0, 48, punct
	jle %r0, 57, digit
	or %r0, 32
	jlt %r0, 97, punct
	jgt %r0, 122, punct
	jeq %r3, 1, loop
	mov %r3, 1
	add %r4, 1
	ja loop
digit:
	jeq %r3, 2, loop
	mov %r3, 2
	add %r5, 1
	ja loop
punct:
	add %r7, 1
space:
	mov %r3, 0
	ja loop
done:
	mov %r0, %r5
	lsh %r0, 16
	or %r0, %r4
	lsh %r7, 32
	or %r0, %r7
	exit
`

func tokenNative(b []byte) uint64 {
	var state, words, numbers, punct uint64
	for _, c := range b {
		switch {
		case c == ' ' || c == '\n':
			state = 0
		case c < '0':
			punct++
			state = 0
		case c <= '9':
			if state != 2 {
				state = 2
				numbers++
			}
		case c|32 < 'a' || c|32 > 'z':
			punct++
			state = 0
		default:
			if state != 1 {
				state = 1
				words++
			}
		}
	}
	return numbers<<16 | words | punct<<32
}

// benchText is 4 KiB of words, numbers, spaces and punctuation (seeded).
func benchText() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for len(b) < 4096 {
		switch rng.IntN(6) {
		case 0, 1, 2:
			for range 1 + rng.IntN(8) {
				b = append(b, byte('a'+rng.IntN(26))-byte(rng.IntN(2)*32))
			}
		case 3:
			for range 1 + rng.IntN(5) {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		case 4:
			b = append(b, ".,;:!?-()"[rng.IntN(9)])
		}
		b = append(b, " \n"[min(rng.IntN(8), 1)])
	}
	return b[:4096]
}

func benchProgram(tb testing.TB, src string) *vm.Program {
	tb.Helper()
	img, err := asm.Assemble(src)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := vm.Verify(img, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

var unlimited = vm.Config{BranchBudget: -1, InstructionBudget: -1}

// TestBenchPrograms checks that each speed program computes what its Go twin
// does, so the benchmarks compare equal work.
func TestBenchPrograms(t *testing.T) {
	text := benchText()
	if fletcherNative(text) != fletcherClassic(text) {
		t.Fatal("deferred-modulo Fletcher-16 differs from the textbook one")
	}
	cases := []struct {
		name string
		src  string
		ctx  []byte
		want uint64
	}{
		{"loop", loopSrc, nil, loopNative(loopIterations)},
		{"fletcher", fletcherSrc, text, fletcherNative(text)},
		{"token", tokenSrc, text, tokenNative(text)},
	}
	for _, c := range cases {
		in := vm.NewInstance(benchProgram(t, c.src), unlimited)
		res, err := in.Run(0, c.ctx)
		if err != nil || res.R0 != c.want {
			t.Errorf("%s: r0 = %#x, %v; want %#x", c.name, res.R0, err, c.want)
		}
	}
}

// benchVM runs the program runs times per op and reports ns/insn and the
// ratio to native, which it times right after for the same number of ops.
func benchVM(b *testing.B, src string, ctx []byte, runs int, native func() uint64) {
	p := benchProgram(b, src)
	in := vm.NewInstance(p, unlimited)
	var insns uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for range runs {
			res, err := in.Run(0, ctx)
			if err != nil {
				b.Fatal(err)
			}
			insns += res.Stats.Instructions
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(insns), "ns/insn")
	var sink uint64
	start := time.Now()
	for range b.N {
		for range runs {
			sink += native()
		}
	}
	nativeTime := time.Since(start)
	if sink == 1 {
		b.Log(sink)
	}
	b.ReportMetric(float64(elapsed)/float64(nativeTime), "x-native")
}

func BenchmarkLoop(b *testing.B) {
	benchVM(b, loopSrc, nil, 1, func() uint64 { return loopNative(loopIterations) })
}

func BenchmarkFletcher16(b *testing.B) {
	text := benchText()
	benchVM(b, fletcherSrc, text, 1000, func() uint64 { return fletcherNative(text) })
}

func BenchmarkStateMachine(b *testing.B) {
	text := benchText()
	benchVM(b, tokenSrc, text, 1000, func() uint64 { return tokenNative(text) })
}

// BenchmarkRunStart is the cost of starting a run of a verified program:
// fresh registers and stack, the context mapped, two instructions.
func BenchmarkRunStart(b *testing.B) {
	p := benchProgram(b, "mov %r0, 1\nexit")
	in := vm.NewInstance(p, vm.Config{})
	ctx := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Run(0, ctx); err != nil {
			b.Fatal(err)
		}
	}
}
