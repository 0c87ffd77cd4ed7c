"""crmcore.lifecycle"""
