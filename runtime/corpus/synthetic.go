package corpus

import (
	"fmt"
	"strings"

	"github.com/mrqa-dev/mrqa/internal/splitmix"
)

// Word lists for the generator; read-only.
var (
	synNouns = []string{
		"house", "river", "letter", "garden", "window", "door", "road", "village", "carriage", "horse",
		"ship", "harbour", "candle", "table", "chair", "book", "voice", "face", "hand", "heart",
		"mind", "morning", "evening", "night", "winter", "summer", "storm", "wind", "sea", "field",
		"forest", "hill", "bridge", "church", "market", "town", "city", "street", "room", "fire",
		"lamp", "clock", "portrait", "mirror", "stair", "gate", "wall", "tower", "castle", "cottage",
		"servant", "stranger", "doctor", "captain", "widow", "soldier", "farmer", "priest", "merchant", "sailor",
		"uncle", "cousin", "sister", "brother", "mother", "father", "friend", "neighbour", "guest", "child",
		"promise", "secret", "debt", "fortune", "quarrel", "journey", "dinner", "ball", "wedding", "funeral",
		"silence", "laughter", "memory", "fear", "hope", "pride", "honour", "duty", "shadow", "rain",
		"snow", "moon", "star", "cloud", "mountain", "valley", "meadow", "orchard", "well", "path",
	}
	synAdjectives = []string{
		"old", "young", "quiet", "bright", "dark", "cold", "warm", "narrow", "broad", "heavy",
		"gentle", "proud", "restless", "solemn", "careless", "patient", "anxious", "cheerful", "weary", "curious",
		"grey", "golden", "silver", "crimson", "pale", "distant", "familiar", "strange", "sudden", "ancient",
		"humble", "noble", "wretched", "handsome", "plain", "sharp", "soft", "bitter", "sweet", "faithful",
		"silent", "eager", "foolish", "wise", "honest", "cruel", "kind", "lonely", "crowded", "empty",
		"ragged", "polished", "broken", "hidden", "open", "small", "enormous", "damp", "dusty", "fragrant",
	}
	synVerbs = []string{
		"opened", "closed", "watched", "followed", "remembered", "forgot", "carried", "found", "lost", "kept",
		"answered", "questioned", "admired", "doubted", "praised", "blamed", "visited", "left", "crossed", "reached",
		"wrote", "read", "heard", "touched", "noticed", "ignored", "mended", "broke", "paid", "owed",
		"pursued", "avoided", "welcomed", "dismissed", "studied", "described", "guarded", "abandoned", "sought", "trusted",
	}
	synIntransitive = []string{
		"waited", "laughed", "trembled", "hesitated", "wandered", "listened", "smiled", "sighed", "returned", "vanished",
		"slept", "wept", "paused", "lingered", "hurried", "shivered", "rested", "arrived", "departed", "prayed",
	}
	synAdverbs = []string{
		"slowly", "quickly", "quietly", "gravely", "gladly", "softly", "suddenly", "carefully", "often", "seldom",
		"afterwards", "presently", "nearly", "hardly", "certainly", "perhaps", "again", "still", "already", "gently",
	}
	synPrepositions = []string{
		"across", "beside", "beyond", "beneath", "behind", "toward", "through", "along", "near", "above",
		"under", "against", "past", "around", "within",
	}
	synDeterminers = []string{"the", "a", "that", "this", "his", "her", "their", "our", "every", "one"}
	synNames       = []string{
		"Margaret", "Thomas", "Eleanor", "Edmund", "Harriet", "Walter", "Lucy", "Arthur", "Catherine", "Henry",
		"Agnes", "Frederick", "Isabel", "Robert", "Clara", "Matthew", "Dorothea", "Julian", "Rosamund", "Philip",
		"Mrs. Hale", "Mr. Crane", "Miss Ashby", "Captain Ward", "Dr. Lowe", "Lady Fenwick",
	}
	synPlaces = []string{
		"Ashford", "Bramley", "Coldwater", "Dunmore", "Elmsworth", "Fairhaven", "Greystone", "Hollins", "Ivybridge",
		"Kingsmere", "Larkfield", "Millbrook", "Northcote", "Oakhurst", "Pembury", "Ravensby", "Stonegate", "Thornfield",
	}
	synSaid        = []string{"said", "asked", "replied", "whispered", "cried", "answered", "murmured", "observed"}
	synSubordinate = []string{"When", "Although", "Because", "Before", "After", "While", "Since", "Until"}
	synConjunction = []string{"and", "but", "yet", "so", "for"}
)

// prose generates an endless deterministic stream of English-like prose.
type prose struct {
	rng     splitmix.Source // the same prose on every machine; Intn's bias is irrelevant here
	last    string          // the previous word, never repeated immediately
	chapter int
	paras   int // paragraphs since the last chapter heading
}

func newProse(seed int64, doc int) *prose {
	// Mix seed and document index so documents differ but stay reproducible.
	mix := splitmix.Source{State: uint64(seed)*splitmix.Gamma ^ uint64(doc+1)*0xd1b54a32d192ed03}
	return &prose{rng: splitmix.Source{State: mix.Next()}}
}

func (p *prose) pick(words []string) string {
	for {
		w := words[p.rng.Intn(len(words))]
		if w != p.last || len(words) == 1 {
			p.last = w
			return w
		}
	}
}

func (p *prose) nounPhrase() string {
	var b strings.Builder
	b.WriteString(p.pick(synDeterminers))
	if p.rng.Intn(3) > 0 {
		b.WriteByte(' ')
		b.WriteString(p.pick(synAdjectives))
	}
	b.WriteByte(' ')
	b.WriteString(p.pick(synNouns))
	if p.rng.Intn(4) == 0 {
		b.WriteString(" of ")
		if p.rng.Intn(2) == 0 {
			b.WriteString(p.pick(synPlaces))
		} else {
			b.WriteString("the " + p.pick(synNouns))
		}
	}
	return b.String()
}

func (p *prose) subject() string {
	if p.rng.Intn(3) == 0 {
		return p.pick(synNames)
	}
	return p.nounPhrase()
}

// clause is a subject and predicate without closing punctuation.
func (p *prose) clause() string {
	s := p.subject()
	switch p.rng.Intn(4) {
	case 0:
		s += " " + p.pick(synIntransitive)
	case 1:
		s += " " + p.pick(synAdverbs) + " " + p.pick(synVerbs) + " " + p.nounPhrase()
	default:
		s += " " + p.pick(synVerbs) + " " + p.nounPhrase()
	}
	if p.rng.Intn(2) == 0 {
		s += " " + p.pick(synPrepositions) + " " + p.nounPhrase()
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (p *prose) sentence() string {
	switch p.rng.Intn(7) {
	case 0:
		return capitalize(p.clause()) + "."
	case 1:
		return capitalize(p.clause()) + ", " + p.pick(synConjunction) + " " + p.clause() + "."
	case 2:
		return p.pick(synSubordinate) + " " + p.clause() + ", " + p.clause() + "."
	case 3:
		return "\"" + capitalize(p.clause()) + ",\" " + p.pick(synSaid) + " " + p.pick(synNames) + "."
	case 4:
		return p.pick(synNames) + " " + p.pick(synSaid) + ", \"Why " + p.pick([]string{"had", "did", "would", "should"}) +
			" " + p.clause() + "?\""
	case 5:
		n := 2 + p.rng.Intn(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = p.clause()
		}
		return capitalize(strings.Join(parts, "; ")) + "."
	default:
		return capitalize(p.clause()) + " " + p.pick(synPrepositions) + " " + p.nounPhrase() + "."
	}
}

var romans = []struct {
	v int
	s string
}{{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"}, {50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"}}

func roman(n int) string {
	var b strings.Builder
	for _, r := range romans {
		for n >= r.v {
			b.WriteString(r.s)
			n -= r.v
		}
	}
	return b.String()
}

// paragraph appends the next paragraph (or chapter heading and paragraph),
// ending in a blank line, to b.
func (p *prose) paragraph(b *strings.Builder) {
	if p.paras == 0 || p.paras >= 12+p.rng.Intn(20) {
		p.chapter++
		p.paras = 0
		fmt.Fprintf(b, "CHAPTER %s.\n\n", roman(p.chapter))
	}
	p.paras++
	n := 1 + p.rng.Intn(8)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.sentence())
	}
	b.WriteString("\n\n")
}

func (p *prose) title() string {
	switch p.rng.Intn(3) {
	case 0:
		return "The " + capitalize(p.pick(synAdjectives)) + " " + capitalize(p.pick(synNouns))
	case 1:
		return capitalize(p.pick(synNouns)) + " of " + p.pick(synPlaces)
	default:
		return p.pick(synNames) + " and the " + capitalize(p.pick(synNouns))
	}
}

// Synthetic returns n documents of deterministic English-like prose, each
// just over approxBytes long (whole paragraphs). The same seed gives the same
// bytes on every machine; document i is a prefix of the text Load generates
// for document i of a synthetic source with that seed.
func Synthetic(n int, seed int64, approxBytes int) []string {
	out := make([]string, n)
	for i := range out {
		d := newSyntheticDoc(seed, i)
		d.growTo(approxBytes)
		out[i] = d.text.String()
	}
	return out
}

// syntheticDoc is one document's generator and its text so far.
type syntheticDoc struct {
	gen   *prose
	title string
	text  strings.Builder
}

func newSyntheticDoc(seed int64, i int) *syntheticDoc {
	g := newProse(seed, i)
	d := &syntheticDoc{gen: g}
	// The title is drawn from its own stream so the body does not depend on it.
	d.title = newProse(seed^0x5bd1e995, i).title()
	return d
}

// growTo appends paragraphs until the text has at least n bytes.
func (d *syntheticDoc) growTo(n int) {
	for d.text.Len() < n {
		d.gen.paragraph(&d.text)
	}
}
