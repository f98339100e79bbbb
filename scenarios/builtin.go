package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed builtin
var builtinFS embed.FS

// builtinOrder is the order `tinylab scenarios` lists them in.
var builtinOrder = []string{"mycoach", "smartdronebox", "update-attacks", "firewall-tour", "hello", "fleet", "bad-release"}

// DefaultScenario is what `tinylab` opens.
const DefaultScenario = "mycoach"

// Builtins parses every built-in scenario, in their listing order.
func Builtins() ([]*Scenario, error) {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok {
			continue
		}
		sc, err := builtin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	slices.SortStableFunc(out, func(a, b *Scenario) int { return rank(a.Name) - rank(b.Name) })
	return out, nil
}

func rank(name string) int {
	if i := slices.Index(builtinOrder, name); i >= 0 {
		return i
	}
	return len(builtinOrder)
}

func builtin(name string) (*Scenario, error) {
	file := "builtin/" + name + ".yaml"
	src, err := fs.ReadFile(builtinFS, file)
	if err != nil {
		return nil, err
	}
	sc, err := Parse(name+".yaml", src, builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	sc.Builtin = true
	return sc, nil
}

// ErrNoScenario is returned for a name that is neither built in nor a file.
var ErrNoScenario = errors.New("no such scenario")

// Load finds a scenario: a built-in's name, or the path of a YAML file (its
// containers' sources are found relative to it).
func Load(nameOrFile string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrFile, "/\\.") {
		if _, err := fs.Stat(builtinFS, "builtin/"+nameOrFile+".yaml"); err == nil {
			return builtin(nameOrFile)
		}
	}
	src, err := os.ReadFile(nameOrFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			var names []string
			for _, n := range builtinOrder {
				names = append(names, n)
			}
			return nil, fmt.Errorf("%w %q: not a built-in (%s) and not a file", ErrNoScenario, nameOrFile, strings.Join(names, ", "))
		}
		return nil, err
	}
	abs, err := filepath.Abs(nameOrFile)
	if err != nil {
		return nil, err
	}
	return Parse(nameOrFile, src, os.DirFS(filepath.Dir(abs)), ".")
}
