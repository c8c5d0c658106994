"""Text segmentation per language: word tokenizers with character offsets.

``xproj.text.words`` holds the per-language registry (:func:`~xproj.text.words.tokenizer_for`)
that every route uses for target text; ``xproj.text.simple`` the language-independent tokenizer
for records that bring text and character spans but no tokens.
"""
