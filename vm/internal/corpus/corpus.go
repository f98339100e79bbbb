package corpus

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"tinylab/vm"
)

// Record is one test of a corpus JSON file.
type Record struct {
	Name                 string   `json:"name"`
	ExpectedResult       *string  `json:"expected_result"`
	ExpectedError        *string  `json:"expected_error"`
	ExpectedErrorPattern *string  `json:"expected_error_pattern"`
	MemHex               string   `json:"mem_hex"`
	RawHex               *string  `json:"raw_hex"`
	Asm                  *string  `json:"asm"`
	Features             []string `json:"features"`
	Helpers              []uint32 `json:"helpers"`
	ProgramSource        *string  `json:"program_source"`
}

// Dir is the corpus folder, found from the module root.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata", "bpf_conformance"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Load reads one of the JSON files, skipping the test when the corpus is absent.
func Load(t testing.TB, file string) []Record {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Skipf("conformance corpus not found: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("conformance corpus absent (%s): run with ../shared/testdata beside the module", filepath.Join(dir, file))
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return recs
}

// Program returns the record's bytecode, or nil when it has none.
func (r Record) Program() ([]byte, error) {
	if r.RawHex == nil {
		return nil, nil
	}
	return hex.DecodeString(*r.RawHex)
}

// Mem returns the record's input memory.
func (r Record) Mem() ([]byte, error) { return hex.DecodeString(r.MemHex) }

// Result parses the expected r0.
func (r Record) Result() (uint64, bool, error) {
	if r.ExpectedResult == nil {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(*r.ExpectedResult, 0, 64)
	return v, true, err
}

// Helpers is the harness's helper set: helper 5 is uBPF's "unwind", which
// returns r1 and ends the run with r0 = 0 when r1 is 0.
func Helpers() vm.HelperMap {
	return vm.HelperMap{
		5: func(args *[5]uint64, _ *vm.Memory) (uint64, error) {
			if args[0] == 0 {
				return 0, vm.ErrHalt
			}
			return args[0], nil
		},
	}
}

// Outcome is what running a record produced.
type Outcome struct {
	R0        uint64
	Stats     vm.Stats
	VerifyErr error // the program was rejected before running
	RunErr    error // the program failed while running
}

// Run verifies and runs bytecode the way the corpus harness does: r1 = a
// writable copy of mem, r2 = its length, helper 5 available.
func Run(code, mem []byte) (Outcome, error) {
	img, err := vm.LoadRaw(code)
	if err != nil {
		return Outcome{VerifyErr: err}, nil
	}
	return RunImage(img, mem)
}

// RunImage is Run for an image.
func RunImage(img *vm.Image, mem []byte) (Outcome, error) {
	h := Helpers()
	p, err := vm.Verify(img, h)
	if err != nil {
		return Outcome{VerifyErr: err}, nil
	}
	in := vm.NewInstance(p, vm.Config{Helpers: h, ContextWritable: true})
	res, err := in.Run(0, append([]byte(nil), mem...))
	return Outcome{R0: res.R0, Stats: res.Stats, RunErr: err}, nil
}

// Check compares an outcome with the record's expectation and describes the
// mismatch, or returns nil.
func (r Record) Check(o Outcome) error {
	want, hasResult, err := r.Result()
	if err != nil {
		return fmt.Errorf("bad expected_result %q: %v", *r.ExpectedResult, err)
	}
	failed := o.VerifyErr != nil || o.RunErr != nil
	if r.ExpectedError != nil || r.ExpectedErrorPattern != nil {
		if !failed {
			return fmt.Errorf("expected an error, got r0 = %#x", o.R0)
		}
		return nil
	}
	if failed {
		return fmt.Errorf("unexpected error: %v", errors.Join(o.VerifyErr, o.RunErr))
	}
	if hasResult && o.R0 != want {
		return fmt.Errorf("r0 = %#x, want %#x", o.R0, want)
	}
	return nil
}
