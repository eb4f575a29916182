package starter

import (
	"fmt"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// The picking rule's constants; docs/language.md ("Starting a file: mrqa
// init") explains each.
const (
	// AssumedContext is the context length assumed for a server whose model
	// list does not state one: nearly every model served today takes it.
	AssumedContext = 4096
	// MinContext is the shortest context the rule fills: below it a
	// document and its follow-ups leave nothing worth measuring.
	MinContext = 2048
	// MaxDocumentTokens caps a document at the source benchmark's novel
	// length, however long the context: longer ones only slow every point.
	MaxDocumentTokens = 131072
	// documentStep is what document lengths are rounded down to.
	documentStep = 512
	// longContext is where a third follow-up round starts to fit.
	longContext = 16384
)

// Choice is the workload Pick chooses for a context length.
type Choice struct {
	Context int  // the context length it is for: the stated one or AssumedContext
	Assumed bool // the server stated none, so Context is AssumedContext
	// Budget is the part of Context the conversation is planned into: three
	// quarters, the rest held back for the chat template, the questions and
	// a server tokenizer that counts the same text longer than cl100k_base.
	Budget         int
	DocumentTokens int  // tokens of every document, cut with cl100k_base
	Capped         bool // DocumentTokens is MaxDocumentTokens, not what the budget allows
	Rounds         int  // follow-up turns after the opening
	MaxTokens      int  // the answer length every turn asks for
	// Conversation is the longest conversation's lower bound as the plan
	// check counts it (spec.ConversationFloor).
	Conversation int
	Concurrent   []int // the grid's C
	Sequential   []int // the grid's S
}

// Pick chooses document length, rounds and max_tokens for a target whose
// context length is contextLen tokens (0: not stated), and proves with the
// plan check exec applies that the longest conversation fits.
func Pick(contextLen int) (Choice, error) {
	ch := Choice{Context: contextLen, Concurrent: []int{1, 2, 4, 8}, Sequential: []int{1, 2, 4}}
	if contextLen <= 0 {
		ch.Context, ch.Assumed = AssumedContext, true
	}
	if ch.Context < MinContext {
		return ch, fmt.Errorf("the context length is %d tokens, shorter than the %d a document and its follow-up questions need", ch.Context, MinContext)
	}
	ch.MaxTokens = min(max(floorPow2(ch.Context/64), 64), 256)
	ch.Rounds = 2
	if ch.Context >= longContext {
		ch.Rounds = 3
	}
	ch.Budget = ch.Context - ch.Context/4 // not ×3/4, which overflows on a server's absurd claim
	doc := ch.Budget - (ch.Rounds+1)*ch.MaxTokens
	ch.Capped = doc > MaxDocumentTokens
	ch.DocumentTokens = min(doc, MaxDocumentTokens) / documentStep * documentStep
	sc := ch.scenario()
	ch.Conversation = spec.ConversationFloor(sc, ch.DocumentTokens)
	return ch, ch.check(sc)
}

// scenario is the part of the written file the plan check reads.
func (ch *Choice) scenario() *spec.Scenario {
	var qs []spec.Template
	for _, q := range questions() {
		qs = append(qs, spec.Template{{Kind: spec.PartLiteral, Text: q}})
	}
	return &spec.Scenario{Name: scenarioName, Rounds: ch.Rounds,
		Script: &spec.Script{Name: scriptName, Questions: qs, MaxTokens: ch.MaxTokens}}
}

// check applies the plan-time rules to the choice: a rule it breaks is a
// bug in Pick, reported rather than written into a file.
func (ch *Choice) check(sc *spec.Scenario) error {
	errs := spec.CheckPlan(sc, spec.Facts{Documents: -1, MaxModelLen: ch.Context, Conversation: ch.Conversation})
	if ch.DocumentTokens <= 0 {
		return fmt.Errorf("context length %d leaves no room for a document", ch.Context)
	}
	if len(errs) > 0 {
		return fmt.Errorf("the picked workload breaks the plan check: %s", errs[0].Msg)
	}
	return nil
}

// floorPow2 is the largest power of two at most n (1 for n < 2).
func floorPow2(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}
