// Package corpus reads the eBPF conformance corpus in
// ../shared/testdata/bpf_conformance (tests.json, negative.json, ubpf.json)
// for the vm packages' tests, and provides the corpus harness's test helper.
// It is internal to vm and imports only vm.
package corpus
