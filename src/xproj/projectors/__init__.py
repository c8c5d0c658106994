"""projectors"""
