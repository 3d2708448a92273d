"""The glossary: every term the issue asks for is explained, and look-ups fail helpfully."""
import pytest

from churn import glossary


@pytest.mark.parametrize("term", ["Churn probability", "Percentage points (pp)",
                                  "CLV (customer lifetime value)", "Revenue at risk",
                                  "Uplift", "Control group"])
def test_the_terms_managers_asked_for_are_explained(term):
    text = glossary.lookup(term)
    assert len(text.split()) >= 10 and text.endswith(".")


def test_lookup_ignores_letter_case_and_spaces():
    assert glossary.lookup("  uplift ") == glossary.TERMS["Uplift"]


def test_unknown_term_names_itself_and_the_known_ones():
    with pytest.raises(KeyError) as err:
        glossary.lookup("ARPU")
    assert err.value.args[0].startswith("'ARPU' is not in the glossary; known terms: "
                                        "Churn probability, Risk tier,")


def test_the_two_revenue_at_risk_figures_say_why_they_differ():
    """Issue 16: the 12-month figure exceeded the 36-month one with nothing to explain it."""
    text = glossary.lookup("Bills at risk, 12 months")
    assert "revenue (not profit)" in text and "not discounted" in text
