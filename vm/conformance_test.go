package vm_test

import (
	"errors"
	"strings"
	"testing"

	"tinylab/vm"
	"tinylab/vm/internal/corpus"
)

// TestConformance runs every record of tests.json: all must pass.
func TestConformance(t *testing.T) {
	recs := corpus.Load(t, "tests.json")
	if len(recs) != 313 {
		t.Errorf("tests.json has %d records, want 313", len(recs))
	}
	for _, r := range recs {
		t.Run(strings.TrimSuffix(r.Name, ".data"), func(t *testing.T) {
			runRecord(t, r)
		})
	}
}

func runRecord(t *testing.T, r corpus.Record) corpus.Outcome {
	t.Helper()
	code, err := r.Program()
	if err != nil {
		t.Fatal(err)
	}
	mem, err := r.Mem()
	if err != nil {
		t.Fatal(err)
	}
	o, err := corpus.Run(code, mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(o); err != nil {
		t.Error(err)
	}
	return o
}

// ubpfSkipped lists the ubpf.json records this VM does not run, and why.
var ubpfSkipped = map[string]string{
	"ubpf/helpers/call-memfrob.data": "needs ubpf helper 1 (memfrob)",
	"ubpf/helpers/call-save.data":    "needs ubpf helpers 0-3 (gather_bytes, memfrob, no-op, sqrt)",
	"ubpf/helpers/call.data":         "needs ubpf helper 0 (gather_bytes)",
	"ubpf/stack2.data":               "needs ubpf helpers 0 and 1 (gather_bytes, memfrob)",
	"ubpf/string-stack.data":         "needs ubpf helper 4 (strcmp)",
	"ubpf/reload.data":               "tests ubpf's API (loading code twice into one VM), not the ISA",
	"ubpf/errors/err-unknown-opcode.data": "opcode 0x06 is JA32 in RFC 9669, which tests.json requires " +
		"(ja32.data); this old ubpf test treats it as unknown. Here `ja32 +0` runs and returns 0",
}

// TestUbpf runs ubpf.json. Records without an expected result or error only
// check the assembler (see vm/asm).
func TestUbpf(t *testing.T) {
	recs := corpus.Load(t, "ubpf.json")
	for _, r := range recs {
		t.Run(strings.TrimSuffix(r.Name, ".data"), func(t *testing.T) {
			if why, ok := ubpfSkipped[r.Name]; ok {
				t.Skip(why)
			}
			if r.ExpectedResult == nil && r.ExpectedError == nil {
				t.Skip("no expected outcome: an assembler test (see vm/asm)")
			}
			o := runRecord(t, r)
			if r.ExpectedError != nil || r.ExpectedErrorPattern != nil {
				t.Logf("want %q, got %v", pick(r.ExpectedError, r.ExpectedErrorPattern), errors.Join(o.VerifyErr, o.RunErr))
			}
		})
	}
}

// TestNegative checks that every program in negative.json is rejected. The
// two that are valid programs exist to test a harness: error.data expects a
// failure that does not happen and incorrect_return_value_high_bits.data
// expects a wrong r0; for those the harness's Check must report a mismatch.
func TestNegative(t *testing.T) {
	recs := corpus.Load(t, "negative.json")
	for _, r := range recs {
		t.Run(strings.TrimSuffix(r.Name, ".data"), func(t *testing.T) {
			code, err := r.Program()
			if err != nil {
				t.Fatal(err)
			}
			if code == nil && r.Asm != nil {
				t.Skip("no program: an assembler test (see vm/asm)")
			}
			mem, _ := r.Mem()
			o, err := corpus.Run(code, mem)
			if err != nil {
				t.Fatal(err)
			}
			switch r.Name {
			case "negative/error.data", "negative/incorrect_return_value_high_bits.data":
				if o.VerifyErr != nil || o.RunErr != nil {
					t.Fatalf("harness test program failed: %v %v", o.VerifyErr, o.RunErr)
				}
				if r.Check(o) == nil {
					t.Fatalf("harness accepted r0 = %#x against %v", o.R0, r)
				}
				return
			}
			if o.VerifyErr == nil {
				t.Fatalf("accepted; ran to r0 = %#x, err %v", o.R0, o.RunErr)
			}
			if _, ok := vm.KindOf(o.VerifyErr); !ok {
				t.Errorf("rejected with an untyped error: %v", o.VerifyErr)
			}
			t.Log(o.VerifyErr)
		})
	}
}

func pick(a, b *string) string {
	if a != nil {
		return *a
	}
	return *b
}
