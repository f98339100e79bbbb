package wasm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Engine picks how wazero runs the code.
type Engine uint8

// The engines. Auto is the compiler where wazero has one (amd64 and arm64
// on the usual systems), the interpreter elsewhere.
const (
	Auto Engine = iota
	Interpreter
	Compiler
)

func (e Engine) String() string {
	switch e {
	case Interpreter:
		return "interpreter"
	case Compiler:
		return "compiler"
	}
	return "auto"
}

// Resolve says which engine Auto stands for here.
func (e Engine) Resolve() Engine {
	if e != Auto {
		return e
	}
	if compilerPlatform() {
		return Compiler
	}
	return Interpreter
}

func compilerPlatform() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows", "dragonfly", "solaris", "illumos":
		return runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" && runtime.GOOS != "dragonfly" && runtime.GOOS != "solaris" && runtime.GOOS != "illumos"
	}
	return false
}

// features is WebAssembly 1.0 plus what the meter supports beyond it.
const features = api.CoreFeaturesV1 | api.CoreFeatureSignExtensionOps | api.CoreFeatureNonTrappingFloatToIntConversion

// shared is one wazero runtime per engine, with its compilation cache and
// its "env" host module, made on first use and kept for the process: every
// module compiles into it and every instance lives in it.
type shared struct {
	once sync.Once
	rt   wazero.Runtime
	err  error
}

var runtimes [3]shared

func runtimeFor(e Engine) (wazero.Runtime, error) {
	s := &runtimes[e]
	s.once.Do(func() { s.rt, s.err = newRuntime(e) })
	return s.rt, s.err
}

func newRuntime(e Engine) (rt wazero.Runtime, err error) {
	var cfg wazero.RuntimeConfig
	switch e {
	case Compiler:
		if !compilerPlatform() {
			return nil, fmt.Errorf("wazero has no compiler for %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		cfg = wazero.NewRuntimeConfigCompiler()
	default:
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	cfg = cfg.WithCoreFeatures(features).
		WithCompilationCache(wazero.NewCompilationCache()).
		WithCloseOnContextDone(false).
		WithCustomSections(false)
	defer func() {
		// wazero panics when the compiler cannot map executable memory.
		if r := recover(); r != nil {
			rt, err = nil, fmt.Errorf("wazero %s: %v", e, r)
		}
	}()
	ctx := context.Background()
	rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	b := rt.NewHostModuleBuilder("env")
	for i, n := range Natives {
		b.NewFunctionBuilder().
			WithGoModuleFunction(nativeFunc(i), apiTypes(n.Params), apiTypes(n.Results)).
			WithName(n.Name).
			Export(n.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return nil, fmt.Errorf("wazero: natives: %w", err)
	}
	return rt, nil
}

func apiTypes(ts []ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// callCtx is the context every call runs under: it carries the instance,
// so a native reaches its host without a lookup.
type callCtx struct {
	context.Context
	in *Instance
}

// nativeError is what a native panics with so that wazero unwinds the call;
// Call turns it back into a Trap.
type nativeError struct {
	name string
	err  error
}

func (e *nativeError) Error() string { return "native " + e.name + ": " + e.err.Error() }
func (e *nativeError) Unwrap() error { return e.err }

var errNoHost = errors.New("the instance has no host")

func nativeFunc(i int) api.GoModuleFunc {
	n := Natives[i]
	np := len(n.Params)
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		c, ok := ctx.(*callCtx)
		if !ok || c.in.host == nil {
			panic(&nativeError{n.Name, errNoHost})
		}
		in := c.in
		args := append(in.args[:0], stack[:np]...)
		// The compiler engine leaves the upper half of an i32 slot
		// undefined: zero-extend, so every host sees the same values on
		// every engine.
		for j, t := range n.Params {
			if t == I32 {
				args[j] = uint64(uint32(args[j]))
			}
		}
		r, err := callHost(in.host, n.Name, args, &in.mem)
		if err != nil {
			panic(&nativeError{n.Name, err})
		}
		if len(n.Results) > 0 {
			stack[0] = r
		}
	}
}

// callHost calls the host, turning a panic of the host into its error so
// that a broken native fails the call, not the process.
func callHost(h Host, name string, args []uint64, mem *Memory) (r uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = 0, fmt.Errorf("panic: %v", p)
		}
	}()
	return h.Call(name, args, mem)
}
