package device

import "strconv"

// State is where a container is in its lifecycle (DESIGN §3). TinyContainer
// upstream has PROVISIONNING, READY, RUNNING, STOPPING and DELETING; tinylab
// adds EMPTY for a free slot and FAILED for a container the agent stopped.
type State uint8

const (
	Empty State = iota
	Provisioning
	Ready
	Running
	Stopping
	Deleting
	Failed
)

var stateNames = [...]string{"EMPTY", "PROVISIONING", "READY", "RUNNING", "STOPPING", "DELETING", "FAILED"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE(" + strconv.Itoa(int(s)) + ")"
}

// States lists every state in lifecycle order, for drawing the state machine.
func States() []State {
	return []State{Empty, Provisioning, Ready, Running, Stopping, Deleting, Failed}
}

// ParseState reads a state name as String writes it.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// MarshalText makes states readable in JSON transcripts.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Command is something a user or the agent asks of a container.
type Command uint8

const (
	CmdLoad Command = iota
	CmdStart
	CmdStop
	CmdDelete
	CmdRestart
)

var commandNames = [...]string{"load", "start", "stop", "delete", "restart"}

func (c Command) String() string {
	if int(c) < len(commandNames) {
		return commandNames[c]
	}
	return "command(" + strconv.Itoa(int(c)) + ")"
}

// allowedFrom says in which states each command is legal. Anything else is
// refused with ErrIllegalCommand and changes nothing.
var allowedFrom = map[Command][]State{
	CmdLoad:    {Empty},
	CmdStart:   {Ready},
	CmdStop:    {Running},
	CmdDelete:  {Ready, Failed},
	CmdRestart: {Failed},
}

// Allowed reports whether cmd is legal for a container in state s.
func (c Command) Allowed(s State) bool {
	for _, from := range allowedFrom[c] {
		if from == s {
			return true
		}
	}
	return false
}
