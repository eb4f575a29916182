package starter

import (
	"fmt"
	"strings"

	"github.com/mrqa-dev/mrqa/internal/textwrap"
)

// commentWidth is where the file's comments wrap.
const commentWidth = 80

// comment lays text out as # comment lines indented by indent, at most
// commentWidth columns wide (a longer word stands alone).
func comment(indent, text string) string {
	prefix := indent + "# "
	lines := strings.Split(textwrap.Words(strings.Fields(text), commentWidth-len(prefix), ""), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

// The methods below are the file's comments that depend on the choice:
// each says what was picked and why.

// Intro says what the file asks.
func (d *fileData) Intro() string {
	server := "the server"
	if d.Sim {
		server = "a server"
	}
	return fmt.Sprintf("A starter scenario, written by mrqa init. It asks how many user sessions %s "+
		"keeps active while the time to first token of follow-up turns stays within 2 s: C workers "+
		"each serve S sessions in turn, and every session sends a long document, then %d follow-up "+
		"questions, resending the whole conversation each turn. Every value below says why it was "+
		"picked; edit freely.", server, d.Rounds)
}

// SimWhy says what the simulator stands for and how to measure a real server.
func (d *fileData) SimWhy() string {
	return fmt.Sprintf("The server here is mrqa's embedded simulator, profile %q (%s on vLLM, one GPU, "+
		"a %d-token KV cache), on its virtual clock: the whole sweep runs in seconds, anywhere. To "+
		"measure a real server, run `mrqa init -target URL`, or add its vLLM form (for a server "+
		"started with `vllm serve %s`) and point the scenario at target.vllm:", d.Profile, d.SimModel, d.KVTokens, d.SimModel)
}

// WorkloadIntro opens the pair's workload file: what it is, and whose.
func (d *fileData) WorkloadIntro() string {
	return fmt.Sprintf("The shared workload of a starter configuration, written by mrqa init -split: "+
		"the documents, what every session asks, the grid and the SLO. Its scenario runs against "+
		"target.%s, declared in %s beside it: a serving team replaces that file with its own target "+
		"of the same name and leaves this one as published, and mrqa reads every .hcl file of the "+
		"folder as one configuration.", d.TargetName, TargetFileName)
}

// TargetIntro opens the pair's target file.
func (d *fileData) TargetIntro() string {
	return fmt.Sprintf("The serving team's part of the starter configuration, written by mrqa init "+
		"-split: the server the workload in %s runs against. Replace this file with your own "+
		"target %q block (the name the workload uses) to measure another server.", WorkloadFileName, d.TargetName)
}

// PairSimWhy says, in the pair's target file, what the simulator stands
// for and what a vLLM server's block looks like.
func (d *fileData) PairSimWhy() string {
	return fmt.Sprintf("As written it is mrqa's embedded simulator, profile %q (%s on vLLM, one GPU, "+
		"a %d-token KV cache), on its virtual clock: the sweep runs in seconds, anywhere. A vLLM "+
		"server (started with `vllm serve %s`) replaces the block with:", d.Profile, d.SimModel, d.KVTokens, d.SimModel)
}

// GridWhy says why the grid is what it is.
func (d *fileData) GridWhy() string {
	return fmt.Sprintf("The grid rises in powers of two towards the knee: C loads the server's compute, "+
		"S its KV cache, since every session's conversation stays cached between its turns. The "+
		"largest point keeps %d conversations of at least %d tokens each; when every point passes, "+
		"widen the lists or let the search below extend past them.", d.Sessions, d.Conversation)
}

// DocumentWhy says how the document length follows from the context.
func (d *fileData) DocumentWhy() string {
	var b strings.Builder
	switch {
	case d.Assumed:
		fmt.Fprintf(&b, "Document length. The server does not state its context length (its /v1/models "+
			"entry has no max_model_len), so this file assumes %d tokens, which nearly every model "+
			"takes, and exec cannot check the fit: a conversation longer than the model takes fails "+
			"with http_400. Raise document_tokens if it takes more. ", d.Context)
	case d.Sim:
		fmt.Fprintf(&b, "Document length. The simulator states a context length (max_model_len) of %d tokens. ", d.Context)
	default:
		fmt.Fprintf(&b, "Document length. The server states a context length (max_model_len) of %d tokens. ", d.Context)
	}
	fmt.Fprintf(&b, "A quarter of it is held back for what the documents' token counts leave out: "+
		"the chat template, the questions, and a server tokenizer that may count the same text up to "+
		"a fifth longer than cl100k_base, which cuts the documents. The other %d tokens hold the "+
		"document and %d + 1 answers of max_tokens (%d tokens)", d.Budget, d.Rounds, d.Answers)
	if d.Capped {
		fmt.Fprintf(&b, ", but documents stop at %d tokens, the length of the source benchmark's "+
			"novels: longer ones would only slow every point", MaxDocumentTokens)
	}
	fmt.Fprintf(&b, ". Rounded down to a multiple of %d, that is %d: the longest conversation needs at "+
		"least %d tokens, which exec checks against max_model_len before the first point.",
		documentStep, d.DocumentTokens, d.Conversation)
	return b.String()
}

// RoundsWhy says why the scenario has its number of follow-up rounds.
func (d *fileData) RoundsWhy() string {
	s := "Follow-up turns after the opening: TTFT p95 is judged over them, the turns that find their " +
		"conversation in the prefix cache while it holds. "
	if d.Rounds == 3 {
		return s + "Three, the value the source benchmark's README uses."
	}
	return s + fmt.Sprintf("Two: below a %d-token context a third answer takes too much of it.", longContext)
}
