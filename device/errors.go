package device

import "errors"

// Sentinel errors. Typed errors below carry the context and wrap these.
var (
	ErrUnknownBoard     = errors.New("unknown board")
	ErrUnknownKind      = errors.New("unknown event kind")
	ErrUnknownState     = errors.New("unknown container state")
	ErrUnknownContainer = errors.New("no such container")
	ErrUnknownSensor    = errors.New("no such sensor")
	ErrIllegalCommand   = errors.New("illegal command")
	ErrNoSlot           = errors.New("no free container slot")
	ErrTooBig           = errors.New("container does not fit")
	ErrPoweredOff       = errors.New("device is powered off")
	ErrBusy             = errors.New("an update is already in progress")
	ErrRejected         = errors.New("container rejected")
)
