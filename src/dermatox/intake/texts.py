"""What the patient reads and signs. Kept in one place: the intake page and the consent PDF show the same
words, in the patient's language."""

from django.utils.translation import gettext_lazy as _

CONSENT_TEXTS = {
    "treatment": (
        _("Treatment"),
        _(
            "I agree to be assessed and to receive the treatments my clinician and I choose together. "
            "Before each treatment I will be told what it is, what it may achieve, how good the evidence "
            "for it is, its risks and the alternatives. I may refuse or stop at any time."
        ),
    ),
    "photography": (
        _("Clinical photographs"),
        _(
            "I agree that photographs of my scalp or skin are taken and kept in my record to measure the "
            "results of treatment. Only the staff caring for me see them."
        ),
    ),
    "photo_teaching_marketing": (
        _("Use of my photographs for teaching or publicity"),
        _(
            "I agree that my photographs, without my name, may be used for teaching or in the clinic's "
            "publications and advertising. This is separate from my care: saying no changes nothing in my "
            "treatment, and I may withdraw this consent at any time."
        ),
    ),
}

DECLARATION = _(
    "I confirm that my answers are true to the best of my knowledge, and that I will tell the clinic if "
    "anything changes."
)

# Rule codes of dermatox.clinical.intake, worded for the patient.
RULES = {
    "required": _("Please answer this question."),
    "choice": _("Please choose one of the options."),
    "number": _("Please enter a number."),
    "range": _("This number is outside the possible range."),
    "date": _("Please enter a valid date."),
    "future": _("This date is in the future."),
    "too_long": _("Too long: at most 20 lines of 200 characters."),
    "name": _("Please enter your full name."),
    "signature": _("Please sign in the box with your finger or the pen."),
}
