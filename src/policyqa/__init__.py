"""policyqa: question answering with verified citations over policy documents (Korean/English)."""

__version__ = "0.2.0"
