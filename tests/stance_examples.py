"""Statements both stance-model test modules classify (inputs only; no expected labels)."""

from citelens.stance import StanceInput

EXAMPLES = [
    StanceInput("In contrast to <cite>Smith et al. (2001)</cite>, we did not observe any increase in expression."),
    StanceInput("Our results are consistent with those of <cite>[12]</cite>, who also found a twofold increase."),
    StanceInput("Cells were cultured as described previously <cite>[3]</cite>.", section="Methods"),
    StanceInput("", before="", after=""),
    StanceInput("No citation marker at all in this sentence."),
]
