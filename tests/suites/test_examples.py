"""Every example suite (tests/suites/examples, copied from ../shared/examples/suites) is accepted as
written or rejected with the exact line and reason; every step of an accepted one parses through the
vocabulary's own ``parse_command``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.suites import Infrastructure, Ref, SuiteInvalid, parse_suite

EXAMPLES = Path(__file__).parent / "examples"
FILES = sorted(str(path.relative_to(EXAMPLES)) for path in EXAMPLES.glob("*/*.yaml"))


@dataclass(frozen=True)
class Accepted:
    dialect: str
    steps: int
    warning_lines: list[int]


Rejected = list[tuple[int, str, str]]

PLACEHOLDER = (
    "[instance] is a placeholder with no value: pass --var instance=VALUE, "
    "or define instance in the file's variables (or data)"
)
SALES_PROPOSAL = "must be an http:// or https:// URL; local paths are not accepted, got 'sales_proposal.pdf'"
TEST_LEADS = "must be an http:// or https:// URL; local paths are not accepted, got 'test_leads.csv'"
SHOPPING_BAG_IN_H1 = (
    "'Shopping Bag in h1' limits the check to <h1> elements, which no assertion can express; "
    "write 'Shopping Bag' to check it anywhere on the page"
)
CONFIRMED_IN_H3 = (
    "'Purchase Confirmed! in h3' limits the check to <h3> elements, which no assertion can express; "
    "write 'Purchase Confirmed!' to check it anywhere on the page"
)
TAG_H1 = (
    "limits the check to <h1> elements, which no assertion can express; "
    "leave it out to check the element anywhere on the page"
)
TAG_H3 = TAG_H1.replace("<h1>", "<h3>")
NEAR = (
    "an element found next to another (near:) cannot be expressed: a step's element is one hint "
    "(visible text or a selector)"
)
FALLBACK = NEAR.replace("an element found next to another (near:)", "a second element to try (fallback:)")


def sentence(text: str) -> str:
    return (
        "a step is a map such as `click: Login` or `write: {selector: Email, text: a@b.c}`; plain sentences "
        f"({text!r}) are not steps: Virtuoso's API takes structured steps"
    )


NLP_SENTENCES = [
    (6, "navigate to the rocketshop homepage"),
    (9, 'verify that "Border Not Found" text is visible on the page'),
    (12, "wait for 20 seconds"),
    (13, 'click on the "Add to Bag" button'),
    (16, 'click on the "Shopping Bag" link in the header'),
    (19, 'verify that the page heading shows "Shopping Bag"'),
    (22, 'click the "Go to Checkout" button'),
    (25, 'enter "John Doe" in the Full name field'),
    (26, 'enter "johndoe@example.com" in the Email field'),
    (27, 'enter "123 Elm Street" in the Address field'),
    (28, 'enter "555-1234" in the Phone numbers field'),
    (29, 'enter "90210" in the ZIP code field'),
    (32, 'enter "4111 1111 1111 1111" in the Card number field'),
    (33, 'enter "234" in the CVV field'),
    (36, 'click the "Confirm and Pay" button'),
    (39, "wait for 20 seconds"),
    (42, 'verify that "Purchase Confirmed!" message appears'),
    (45, 'click the "Download Confirmation" button'),
]

#: As written, with no --var: the D365 files are templates whose host is still "[instance]".
EXPECTED: dict[str, Accepted | Rejected] = {
    "d365-sales/sales-int-001---email-tracking.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-int-002---sharepoint-document-management.yaml": [
        (3, "starting_url", PLACEHOLDER),
        (8, "steps[2].upload.file", SALES_PROPOSAL),
    ],
    "d365-sales/sales-lead-001---create-new-lead.yaml": [
        (3, "starting_url", PLACEHOLDER),
        (5, "steps[0].navigate", PLACEHOLDER),
    ],
    "d365-sales/sales-lead-002---lead-qualification-process.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-lead-003---lead-duplicate-detection.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-lead-004---bulk-lead-import.yaml": [
        (3, "starting_url", PLACEHOLDER),
        (8, "steps[2].upload.file", TEST_LEADS),
    ],
    "d365-sales/sales-opp-001---create-opportunity-from-account.yaml": [
        (3, "starting_url", PLACEHOLDER),
        (5, "steps[0].navigate", PLACEHOLDER),
    ],
    "d365-sales/sales-opp-002---opportunity-stage-progression.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-opp-003---create-and-send-quote.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-opp-004---close-opportunity-as-won.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-order-001---create-order-from-quote.yaml": [
        (3, "starting_url", PLACEHOLDER),
        (5, "steps[0].navigate", PLACEHOLDER),
    ],
    "d365-sales/sales-order-002---order-fulfillment-process.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-order-003---create-invoice.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-pipe-001---pipeline-review.yaml": [(3, "starting_url", PLACEHOLDER)],
    "d365-sales/sales-pipe-002---sales-forecasting.yaml": [(3, "starting_url", PLACEHOLDER)],
    "rocketshop/rocketshop-compact-final.yaml": Accepted("compact", 21, []),
    "rocketshop/rocketshop-compact.yaml": Accepted("compact", 21, []),
    "rocketshop/rocketshop-complete-test.yaml": [
        (30, "do[4].ch", SHOPPING_BAG_IN_H1),
        (53, "do[15].ch", CONFIRMED_IN_H3),
    ],
    "rocketshop/rocketshop-e2e-nlp.yaml": Accepted("simplified", 27, []),
    "rocketshop/rocketshop-final-deployment.yaml": [
        (27, "do[4].ch", SHOPPING_BAG_IN_H1),
        (50, "do[15].ch", CONFIRMED_IN_H3),
    ],
    "rocketshop/rocketshop-new-project.yaml": [
        (17, "do[4].ch", SHOPPING_BAG_IN_H1),
        (28, "do[15].ch", CONFIRMED_IN_H3),
    ],
    "rocketshop/rocketshop-nlp-final.yaml": Accepted("simplified", 18, []),
    "rocketshop/rocketshop-nlp-test.yaml": [
        (line, f"steps[{index}]", sentence(text)) for index, (line, text) in enumerate(NLP_SENTENCES)
    ],
    "rocketshop/rocketshop-nlp-virtuoso.yaml": Accepted("extended", 18, []),
    "rocketshop/rocketshop-selenium-conversion.yaml": [
        (28, "steps[5].assert.tag", TAG_H1),
        (77, "steps[16].assert.tag", TAG_H3),
    ],
    "rocketshop/rocketshop-selenium-migration.yaml": [
        (27, "do[4].ch", SHOPPING_BAG_IN_H1),
        (50, "do[15].ch", CONFIRMED_IN_H3),
    ],
    "rocketshop/rocketshop-shopping-test-fixed.yaml": Accepted("extended", 22, []),
    "rocketshop/rocketshop-shopping-test.yaml": [
        (12, "steps[1].target.near", NEAR),
        (41, "steps[6].target.fallback", FALLBACK),
        (56, "steps[8].target.near", NEAR),
        (65, "steps[9].target.near", NEAR),
        (79, "steps[11].target.near", NEAR),
        (88, "steps[12].target.near", NEAR),
        (96, "steps[13].target.near", NEAR),
        (151, "steps[22].target.near", NEAR),
    ],
    "rocketshop/rocketshop-shopping-virtuoso.yaml": Accepted("simplified", 22, []),
    "rocketshop/rocketshop-test-compact.yaml": [
        (18, "do[4].ch", SHOPPING_BAG_IN_H1),
        (29, "do[15].ch", CONFIRMED_IN_H3),
    ],
    "rocketshop/rocketshop-test.yaml": [
        (27, "steps[5].element_type", TAG_H1),
        (79, "steps[16].element_type", TAG_H3),
    ],
}

#: The D365 templates with their host given (--var instance=contoso): the `wait: N` seconds and the
#: `$TIMESTAMP`-style variables Virtuoso fills in are warnings; local files to upload stay errors.
WITH_INSTANCE: dict[str, Accepted | Rejected] = {
    "d365-sales/sales-int-001---email-tracking.yaml": Accepted("simplified", 12, [22]),
    "d365-sales/sales-int-002---sharepoint-document-management.yaml": [
        (8, "steps[2].upload.file", SALES_PROPOSAL)
    ],
    "d365-sales/sales-lead-001---create-new-lead.yaml": Accepted("simplified", 21, [6, 8, 11, 14, 43]),
    "d365-sales/sales-lead-002---lead-qualification-process.yaml": Accepted("simplified", 10, [6, 11]),
    "d365-sales/sales-lead-003---lead-duplicate-detection.yaml": Accepted("simplified", 8, [14]),
    "d365-sales/sales-lead-004---bulk-lead-import.yaml": [(8, "steps[2].upload.file", TEST_LEADS)],
    "d365-sales/sales-opp-001---create-opportunity-from-account.yaml": Accepted(
        "simplified", 16, [7, 13, 22, 33]
    ),
    "d365-sales/sales-opp-002---opportunity-stage-progression.yaml": Accepted("simplified", 16, [6]),
    "d365-sales/sales-opp-003---create-and-send-quote.yaml": Accepted("simplified", 16, [7, 10, 23]),
    "d365-sales/sales-opp-004---close-opportunity-as-won.yaml": Accepted("simplified", 9, [6, 17]),
    "d365-sales/sales-order-001---create-order-from-quote.yaml": Accepted("simplified", 9, [8, 10, 18]),
    "d365-sales/sales-order-002---order-fulfillment-process.yaml": Accepted("simplified", 16, [7, 26, 33]),
    "d365-sales/sales-order-003---create-invoice.yaml": Accepted("simplified", 11, [6, 10, 16, 19]),
    "d365-sales/sales-pipe-001---pipeline-review.yaml": Accepted("simplified", 10, [9, 20]),
    "d365-sales/sales-pipe-002---sales-forecasting.yaml": Accepted("simplified", 12, [6]),
}


def _check(name: str, expected: Accepted | Rejected, variables: dict[str, str]) -> None:
    content = (EXAMPLES / name).read_bytes()
    if isinstance(expected, Accepted):
        suite = parse_suite(content, source=name, variables=variables)
        assert (suite.dialect.value, len(suite.steps)) == (expected.dialect, expected.steps)
        assert [warning.line for warning in suite.warnings] == expected.warning_lines
        for step in suite.steps:
            reparsed = parse_command(step.command, list(step.args))
            assert isinstance(reparsed, StepCommand)
            assert reparsed.step == step.parsed.step
        return
    with pytest.raises(SuiteInvalid) as refused:
        parse_suite(content, source=name, variables=variables)
    assert [(p.line, p.field, p.message) for p in refused.value.problems] == expected
    line, field, message = expected[0]
    assert refused.value.message.startswith(f"{name}:{line}: {field}: {message}")


def test_every_example_is_classified() -> None:
    assert set(FILES) == set(EXPECTED)
    assert len(FILES) == 31


@pytest.mark.parametrize("name", FILES)
def test_each_example_as_written(name: str) -> None:
    _check(name, EXPECTED[name], {})


@pytest.mark.parametrize("name", sorted(WITH_INSTANCE))
def test_the_d365_templates_with_their_host_given(name: str) -> None:
    _check(name, WITH_INSTANCE[name], {"instance": "contoso.crm.dynamics.com"})


def test_a_d365_file_in_full() -> None:
    """What the D365 authors meant: wait: 2 is two seconds; assert_text is an equals assertion;
    switch_tab next/previous; store into $leadNumber; their $TIMESTAMP is left to Virtuoso."""
    name = "d365-sales/sales-lead-001---create-new-lead.yaml"
    suite = parse_suite((EXAMPLES / name).read_bytes(), source=name, variables={"instance": "contoso"})
    assert suite.name == "SALES-LEAD-001 - Create New Lead - Verify lead creation with all required fields"
    assert suite.starting_url == "https://contoso.crm.dynamics.com"
    steps = [(s.line, s.command, list(s.args)) for s in suite.steps]
    assert steps[:3] == [
        (5, "step-navigate", ["to", "https://contoso.crm.dynamics.com"]),
        (6, "step-wait", ["time", "3000"]),
        (7, "step-interact", ["click", "Sales Hub"]),
    ]
    assert (12, "step-interact", ["write", "Topic", "Test Lead - $TIMESTAMP"]) in steps
    assert (30, "step-interact", ["select", "option", "Lead Source", "Employee Referral"]) in steps
    assert (36, "step-interact", ["write", "Budget Amount", "50000"]) in steps
    assert steps[-1] == (45, "step-data", ["store", "element-text", "Lead Number", "$leadNumber"])
    assert [(w.line, w.field, w.message) for w in suite.warnings][:2] == [
        (
            6,
            "steps[1].wait",
            "wait: 3 is read as 3 seconds (3000 ms): a bare number up to 60 is seconds, a larger one "
            "milliseconds; write 3s, or 3ms for milliseconds",
        ),
        (
            8,
            "steps[3].wait",
            "wait: 2 is read as 2 seconds (2000 ms): a bare number up to 60 is seconds, a larger one "
            "milliseconds; write 2s, or 2ms for milliseconds",
        ),
    ]
    timestamp = next(w for w in suite.warnings if w.line == 14)
    assert timestamp.message.startswith(
        "$TIMESTAMP is not defined in the file or by --var: it is sent as written"
    )

    quote = "d365-sales/sales-opp-003---create-and-send-quote.yaml"
    steps = [
        (s.line, s.command, list(s.args))
        for s in parse_suite((EXAMPLES / quote).read_bytes(), variables={"instance": "x"}).steps
    ]
    assert (8, "step-assert", ["equals", "Customer", "$accountName"]) in steps
    assert (24, "step-assert", ["equals", "Status", "Active"]) in steps
    assert (11, "step-misc", ["comment", 'Assert that element "Price List" is not empty']) in steps


def test_a_compact_file_with_data() -> None:
    """$name from data is filled in; `t: $x in "Field"` is a write into Field; infrastructure kept."""
    name = "rocketshop/rocketshop-complete-test.yaml"
    text = (EXAMPLES / name).read_text().replace(" in h1", "").replace(" in h3", "")
    suite = parse_suite(text, source=name)
    assert suite.dialect.value == "compact"
    assert suite.starting_url == "https://rocketshop.virtuoso.qa"
    assert suite.infrastructure == Infrastructure(
        project=Ref(id=9349),
        goal=Ref(name="E-commerce Purchase Flow"),
        journey=Ref(name="Complete Purchase Journey"),
        checkpoint=Ref(name="Full Test Run"),
    )
    assert [section.name for section in suite.sections] == ["do"]
    steps = [(s.line, s.command, list(s.args)) for s in suite.steps]
    assert (36, "step-interact", ["write", "Full name", "John Doe"]) in steps
    assert (40, "step-interact", ["write", "ZIP code", "90210"]) in steps
    assert (44, "step-interact", ["write", "xxx", "234"]) in steps
    assert suite.warnings == ()
