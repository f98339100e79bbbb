package suit

import "fmt"

// Step is one check or action of the update procedure, in the order RIOT
// makes them.
type Step int

// The steps. Process reports them in this order for a one-component
// manifest; commands inside the sequences (parameters, conditions, try-each)
// are reported where the manifest places them.
const (
	StepEnvelope       Step = iota // decode the outer envelope, detect the format
	StepSignature                  // COSE signature over the manifest digest
	StepManifestDigest             // the signed digest against the manifest bytes
	StepManifest                   // decode the authenticated manifest
	StepVersion                    // manifest-version must be 1
	StepSequenceNumber             // must be above the stored sequence number
	StepComponents                 // component ids and their storage locations
	StepSeverable                  // severable members carried in the envelope
	StepParameters                 // set- and override-parameters
	StepVendor                     // condition-vendor-identifier
	StepClass                      // condition-class-identifier
	StepSlot                       // condition-component-slot (draft-09: component-offset)
	StepTryEach                    // directive-try-each
	StepSection                    // a manifest section the procedure does not run
	StepCommand                    // a command the procedure does not run
	StepPolicy                     // RIOT's policy check and the device's own, before fetch
	StepFetch                      // fetch the payload into a staged slot
	StepImageMatch                 // condition-image-match (SHA-256 of the staged payload)
	StepInstall                    // commit the staged slots, store the sequence number
	stepCount
)

var stepNames = [stepCount]string{
	"envelope", "signature", "manifest-digest", "manifest", "version",
	"sequence-number", "components", "severable", "parameters", "vendor",
	"class", "component-slot", "try-each", "section", "command", "policy",
	"fetch", "image-match", "install",
}

func (s Step) String() string {
	if s >= 0 && s < stepCount {
		return stepNames[s]
	}
	return fmt.Sprintf("step(%d)", int(s))
}

// Status says what an event reports about its step.
type Status int

// The statuses.
const (
	Started Status = iota
	Passed
	Failed
	Progress
)

func (s Status) String() string {
	switch s {
	case Started:
		return "started"
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Progress:
		return "progress"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Event is one thing the procedure reports, synchronously and in order.
type Event struct {
	Step    Step
	Status  Status
	Message string // RIOT's wording with the values compared, e.g. "Manifest seq_no: 2, highest available: 1"
	// Component is the storage location the event is about, e.g. ".ram.0",
	// when the step works on one component.
	Component string
	// Done and Total count payload bytes in Progress events of StepFetch.
	Done, Total uint64
	// Code is the failure code in Failed events.
	Code Code
}

func (e Event) String() string {
	s := e.Step.String() + " " + e.Status.String()
	if e.Component != "" {
		s += " " + e.Component
	}
	if e.Status == Progress {
		s += fmt.Sprintf(" %d/%d", e.Done, e.Total)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Status == Failed {
		s += fmt.Sprintf(" [%v (%d)]", e.Code, int(e.Code))
	}
	return s
}
