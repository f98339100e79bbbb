package authz

import (
	"fmt"
	"strings"
)

// Role is the kind of party a request comes from.
type Role uint8

const (
	// Anyone is a caller without credentials: plain CoAP, or DTLS with an
	// identity the device does not know as a party.
	Anyone Role = iota
	// Tenant is a company renting code space: it manages its own containers.
	Tenant
	// Owner owns the device and issues the container tokens.
	Owner
	numRoles
)

var roleNames = [numRoles]string{"anyone", "tenant", "owner"}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Roles lists every role, least trusted first.
func Roles() []Role { return []Role{Anyone, Tenant, Owner} }

// Party is who sent a request: a role and, for tenants and owners, a name.
type Party struct {
	Role Role
	Name string // the tenant's or owner's name; "" for anyone
}

// Nobody is the party of a request without credentials.
var Nobody = Party{Role: Anyone}

func (p Party) String() string {
	if p.Role == Anyone || p.Name == "" {
		return p.Role.String()
	}
	return p.Role.String() + " " + p.Name
}

// ParseParty reads "owner:NAME", "tenant/NAME" or "tenant:NAME", or "anyone".
func ParseParty(s string) (Party, error) {
	if s == "anyone" {
		return Nobody, nil
	}
	role, name, ok := strings.Cut(s, ":")
	if !ok {
		role, name, ok = strings.Cut(s, "/")
	}
	if !ok || name == "" {
		return Party{}, fmt.Errorf("party %q: write owner:NAME, tenant:NAME or anyone", s)
	}
	switch role {
	case "owner":
		return Party{Role: Owner, Name: name}, nil
	case "tenant":
		return Party{Role: Tenant, Name: name}, nil
	}
	return Party{}, fmt.Errorf("party %q: the role must be owner or tenant", s)
}

// Resource is one of the device's CoAP resources (DESIGN §3).
type Resource uint8

const (
	Discovery     Resource = iota // /.well-known/core
	Board                         // /riot/board
	SuitStatus                    // /suit/status
	SuitTrigger                   // /suit/trigger
	SuitManifest                  // /suit/manifest
	ContainerList                 // /containers
	Container                     // /containers/{uid}
	BPFExec                       // /bpf/exec/{slot}
	TinyContainer                 // /container/ (upstream's protocol)
	DeviceID                      // /device-id/
	numResources
)

var resourceNames = [numResources]string{
	"/.well-known/core", "/riot/board", "/suit/status", "/suit/trigger", "/suit/manifest",
	"/containers", "/containers/{uid}", "/bpf/exec/{slot}", "/container/", "/device-id/",
}

func (r Resource) String() string {
	if r < numResources {
		return resourceNames[r]
	}
	return fmt.Sprintf("resource(%d)", uint8(r))
}

// Resources lists every resource.
func Resources() []Resource {
	rs := make([]Resource, numResources)
	for i := range rs {
		rs[i] = Resource(i)
	}
	return rs
}

// ResourceOf names the resource a path is, and false for a path the device
// does not serve.
func ResourceOf(path string) (Resource, bool) {
	path = "/" + strings.Trim(path, "/")
	switch {
	case path == "/.well-known/core":
		return Discovery, true
	case path == "/riot/board":
		return Board, true
	case path == "/suit/status":
		return SuitStatus, true
	case path == "/suit/trigger":
		return SuitTrigger, true
	case path == "/suit/manifest":
		return SuitManifest, true
	case path == "/containers":
		return ContainerList, true
	case strings.HasPrefix(path, "/containers/"):
		return Container, true
	case strings.HasPrefix(path, "/bpf/exec/"):
		return BPFExec, true
	case path == "/container":
		return TinyContainer, true
	case path == "/device-id":
		return DeviceID, true
	}
	return 0, false
}

// Method is a CoAP request method.
type Method uint8

const (
	Get Method = iota
	Post
	Put
	Delete
	numMethods
)

var methodNames = [numMethods]string{"GET", "POST", "PUT", "DELETE"}

func (m Method) String() string {
	if m < numMethods {
		return methodNames[m]
	}
	return fmt.Sprintf("method(%d)", uint8(m))
}

// Methods lists every method.
func Methods() []Method { return []Method{Get, Post, Put, Delete} }

// Rule is why a request is allowed or refused: one line of the table.
type Rule uint8

const (
	// NotServed: the resource has no such method; the resource answers 4.05
	// itself, for every party alike.
	NotServed Rule = iota
	// Open: anyone may (discovery, board, read-only status).
	Open
	// Repositories: anyone may trigger an update from one of the device's
	// configured update repositories; other URIs need credentials, or an
	// open trigger turns the device into a traffic reflector.
	Repositories
	// Authenticated: any party with credentials may (a tenant's trigger from
	// any URI, a manifest pushed whole).
	Authenticated
	// OwnContainers: a tenant may act on the containers it shipped (signed
	// their manifest), never on another tenant's.
	OwnContainers
	// OwnerOnly: only the owner (RAM-slot execution, upstream's /container/
	// protocol, the device id).
	OwnerOnly
	numRules
)

var ruleNames = [numRules]string{"not-served", "open", "repositories-only", "authenticated", "own-containers", "owner-only"}

func (r Rule) String() string {
	if r < numRules {
		return ruleNames[r]
	}
	return fmt.Sprintf("rule(%d)", uint8(r))
}

// table is who may do what: the rule for each resource and method. The owner
// passes every rule; NotServed is left to the resource.
var table = [numResources][numMethods]Rule{
	//              GET             POST           PUT            DELETE
	Discovery:     {Open, NotServed, NotServed, NotServed},
	Board:         {Open, NotServed, NotServed, NotServed},
	SuitStatus:    {Open, NotServed, NotServed, NotServed},
	SuitTrigger:   {NotServed, Repositories, Repositories, NotServed},
	SuitManifest:  {NotServed, Authenticated, Authenticated, NotServed},
	ContainerList: {Open, NotServed, NotServed, NotServed},
	Container:     {OwnContainers, OwnContainers, OwnContainers, OwnContainers},
	BPFExec:       {NotServed, OwnerOnly, NotServed, NotServed},
	TinyContainer: {OwnerOnly, OwnerOnly, OwnerOnly, OwnerOnly},
	DeviceID:      {Open, OwnerOnly, NotServed, NotServed},
}

// RuleFor is the table's rule for a method on a resource.
func RuleFor(res Resource, m Method) Rule {
	if res >= numResources || m >= numMethods {
		return NotServed
	}
	return table[res][m]
}

// Facts are what a rule may depend on besides the party.
type Facts struct {
	// Tenant is the tenant the container belongs to (Container resource);
	// "" when it belongs to the owner or there is no such container.
	Tenant string
	// FromRepository says the trigger's URI is on a configured repository.
	FromRepository bool
}

// Verdict is the outcome of a decision.
type Verdict uint8

const (
	Allow        Verdict = iota
	Unauthorized         // 4.01: credentials are needed
	Forbidden            // 4.03: these credentials are not enough
)

var verdictNames = [...]string{"allow", "unauthorized", "forbidden"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Decision is what the table says about one request.
type Decision struct {
	Party    Party
	Resource Resource
	Method   Method
	Rule     Rule
	Verdict  Verdict
}

// Allowed reports whether the request may go on.
func (d Decision) Allowed() bool { return d.Verdict == Allow }

func (d Decision) String() string {
	return fmt.Sprintf("%s %s %s: %s (%s)", d.Party, d.Method, d.Resource, d.Verdict, d.Rule)
}

// Why is a sentence for the refused caller.
func (d Decision) Why() string {
	switch d.Rule {
	case Repositories:
		return "without credentials, updates come only from the device's configured repositories"
	case Authenticated:
		return "credentials are required"
	case OwnContainers:
		if d.Party.Role == Tenant {
			return "a tenant may manage only its own containers"
		}
		return "only the container's tenant or the owner may"
	case OwnerOnly:
		return "only the device owner may"
	}
	return d.Rule.String()
}

// Decide says whether p may use method m on resource res, given the facts.
func Decide(p Party, res Resource, m Method, f Facts) Decision {
	d := Decision{Party: p, Resource: res, Method: m, Rule: RuleFor(res, m)}
	if !allowed(p, d.Rule, f) {
		d.Verdict = Forbidden
		if p.Role == Anyone {
			d.Verdict = Unauthorized
		}
	}
	return d
}

func allowed(p Party, r Rule, f Facts) bool {
	if p.Role == Owner {
		return true
	}
	switch r {
	case NotServed, Open:
		return true
	case Repositories:
		return f.FromRepository || p.Role == Tenant
	case Authenticated:
		return p.Role == Tenant
	case OwnContainers:
		return p.Role == Tenant && f.Tenant != "" && f.Tenant == p.Name
	}
	return false
}
